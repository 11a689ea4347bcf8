// Compile-time check that the implementation matches the curated public typings (index.d.ts).
import type * as Api from '../index'
import * as impl from './index'

export const conforms: Pick<typeof Api, Exclude<keyof typeof Api, 'MappedFile'>> = impl
type Public<T> = { [K in keyof T]: T[K] }
export type MappedFileConforms = Public<impl.MappedFile> extends Public<Api.MappedFile> ? true : never
const mappedFileConforms: MappedFileConforms = true
void mappedFileConforms
