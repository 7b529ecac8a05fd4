// Node: the module decodes the fixtures bit for bit as the native build does, on the simd128
// and the portable paths. Usage: node tests/node.mjs <module.wasm> <native.json> (from the
// repository root; .ci/wasm.sh runs it).
import { readFile } from "node:fs/promises";
import { decodeAll, compare } from "../web/fixtures.js";

const [wasmPath, expectedPath] = process.argv.slice(2);
const expected = JSON.parse(await readFile(expectedPath, "utf8"));
const read = async (path) => new Uint8Array(await readFile(path));
let failed = false;
for (const kernels of ["simd128", "portable"]) {
  const got = await decodeAll(await readFile(wasmPath), read, kernels);
  const problems = compare(expected, got);
  for (const [file, r] of Object.entries(got.results)) {
    console.log(`node ${kernels}: ${file}: ${r.frames} frames, ${r.realTime.toFixed(1)}x real time, ${problems.some((p) => p.includes(file)) ? "DIFFERS" : "bit-exact"}`);
  }
  console.log(`node ${kernels}: instantiate ${got.instantiateMs.toFixed(0)} ms, first audio ${got.firstAudioMs.toFixed(0)} ms`);
  problems.forEach((p) => console.error(p));
  failed ||= problems.length > 0;
}
process.exit(failed ? 1 : 0);
