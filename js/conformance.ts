// Compile-time checks that the implementation and the curated public typings (index.d.ts) agree:
// every documented export and member exists, and every export and public member is documented.
import type * as Api from '../index'
import * as impl from './index'

type Public<T> = { [K in keyof T]: T[K] }
type Assert<T extends true> = T

export const implementsApi: Pick<typeof Api, Exclude<keyof typeof Api, 'MappedFile'>> = impl
export type MappedFileImplementsApi = Assert<Public<impl.MappedFile> extends Public<Api.MappedFile> ? true : false>
export type EveryExportDocumented = Assert<[Exclude<keyof typeof impl, keyof typeof Api>] extends [never] ? true : false>
export type EveryMemberDocumented = Assert<[Exclude<keyof impl.MappedFile, keyof Api.MappedFile>] extends [never] ? true : false>
