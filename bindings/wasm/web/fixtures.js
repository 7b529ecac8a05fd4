// The fixtures the WebAssembly tests decode (paths from the repository root, which the test
// servers serve), how, and a timing harness shared by the Node and Chromium tests.
import { load } from "./encodec.js";

export const MODELS = {
  "24khz": "weights/test-24khz",
  "48khz": "weights/test-48khz",
};

export const CASES = [
  { file: "tests/fixtures/small-24khz/ecdc/speech.6.0.ecdc", model: "24khz" },
  { file: "tests/fixtures/small-48khz/ecdc/speech.6.0.ecdc", model: "48khz" },
  { file: "tests/fixtures/wasm/speech-6kbps-framed.lyra" },
  // Raw packets, fed to the stream decoder 7 bytes at a time (packets are 8).
  { file: "tests/fixtures/wasm/speech-3.2kbps.lyra", stream: 3.2, piece: 7 },
];

async function sha256(samples) {
  const bytes = new Uint8Array(samples.reduce((n, s) => n + s.length, 0) * 4);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const channel of samples) for (const s of channel) view.setFloat32((at++) * 4, s, true);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(parts) {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** Decodes every case on `kernels`; `read(path)` gives a file's bytes. */
export async function decodeAll(wasm, read, kernels) {
  const started = performance.now();
  const codec = await load(wasm);
  const instantiated = performance.now() - started;
  codec.setKernels(kernels);
  const results = {};
  let firstAudioMs = null;
  for (const c of CASES) {
    if (c.model) {
      const dir = MODELS[c.model];
      codec.loadEncodec(new TextDecoder().decode(await read(`${dir}/config.json`)), await read(`${dir}/model.safetensors`));
    }
    const bytes = await read(c.file);
    const t0 = performance.now();
    let pcm;
    if (c.stream) {
      const stream = codec.lyraStream(c.stream);
      const parts = [];
      let decoded = 0;
      for (let i = 0; i < bytes.length; i += c.piece) {
        const got = stream.push(bytes.subarray(i, i + c.piece));
        decoded += got.samples[0].length;
        // Time to first audio: from loading the module to the first 20 ms of samples.
        if (firstAudioMs === null && decoded >= 320) firstAudioMs = instantiated + performance.now() - t0;
        parts.push(got.samples[0]);
      }
      parts.push(stream.finish().samples[0]);
      pcm = { sampleRate: 16000, channels: 1, samples: [concat(parts)] };
    } else {
      pcm = codec.decode(bytes);
    }
    const seconds = (performance.now() - t0) / 1000;
    const frames = pcm.samples[0].length;
    results[c.file] = {
      sampleRate: pcm.sampleRate,
      channels: pcm.channels,
      frames,
      sha256: await sha256(pcm.samples),
      realTime: frames / pcm.sampleRate / seconds,
    };
  }
  codec.free();
  return { kernels, instantiateMs: instantiated, firstAudioMs, results };
}

/** The differences between `got` and the native `expected` (empty when bit for bit equal). */
export function compare(expected, got) {
  const problems = [];
  for (const [file, want] of Object.entries(expected)) {
    const have = got.results[file];
    for (const key of ["sampleRate", "channels", "frames", "sha256"]) {
      if (!have || have[key] !== want[key]) problems.push(`${got.kernels} ${file}: ${key} ${have?.[key]} != native ${want[key]}`);
    }
  }
  return problems;
}
