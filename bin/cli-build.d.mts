// Types of bin/cli-build.mjs (plain JavaScript: it runs before anything can load TypeScript).
export declare const CLI_BUILD_FORMAT: number;
export declare const REPO_ROOT: string;
export declare const CLI_ENTRY: string;
export declare class CliBuildError extends Error {}
/** Where builds live: node_modules/.cache/trailguard/cli under the repository (packages resolve from there). */
export declare function cliBuildDir(root?: string): string;
/** The built entry of the last build when every file it read is unchanged; otherwise undefined. */
export declare function freshBuild(root?: string, dir?: string, entry?: string): string | undefined;
/** Bundles the entry (packages external) and makes it the latest build. Returns the built entry. */
export declare function buildCli(root?: string, dir?: string, entry?: string): Promise<string>;
/** The built CLI entry: the last build when it is fresh, else a new build. */
export declare function builtCli(root?: string, dir?: string, entry?: string): Promise<string>;
