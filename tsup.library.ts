// The one build configuration of every @lora-tle library package (ESM + type declarations for
// ES2022); a package's tsup.config.ts only names its entry points.
import { defineConfig } from 'tsup';

export function libraryConfig(entry: string[] = ['src/index.ts']) {
  return defineConfig({ entry, format: ['esm'], dts: true, clean: true, sourcemap: true, target: 'es2022' });
}
