// Types of linux-only.cjs (plain CommonJS, so that scripts/check-linux-only.mjs reads the same table).
export declare const FACILITIES: { paths: string[]; tools: string[]; signals: string[]; kernel: string[]; runtimes: string[] }
export declare const FILES: Record<string, string>
export declare function namedFacilities(reason: unknown): string[]
