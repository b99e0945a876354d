// Test and tooling helpers of @lora-tle/backend-simd (not exported by the package): assembling
// kernels.wat with wabt, the one place the assembler is used.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The bytes of src/kernels.wat assembled by wabt (SIMD enabled, validated). */
export async function assembleKernels(): Promise<Uint8Array> {
  const { default: wabtInit } = await import('wabt');
  const wabt = await wabtInit();
  const source = readFileSync(fileURLToPath(new URL('./kernels.wat', import.meta.url)), 'utf8');
  const module = wabt.parseWat('kernels.wat', source, { simd: true });
  try {
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
