// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens the demo
// page over HTTP on 127.0.0.1, which decodes the fixtures on the simd128 and portable paths
// and plays the Lyra file through Web Audio (an offline context); the samples must equal the
// native decode bit for bit. Usage, from the repository root after .ci/wasm.sh built
// target/web: node bindings/wasm/tests/browser.mjs target/web/native.json
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, normalize, resolve } from "node:path";
import { chromium } from "playwright-core";
import { compare } from "../web/fixtures.js";

const expected = JSON.parse(await readFile(process.argv[2], "utf8"));
const root = resolve(".");
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
  const file = resolve(root, "." + path);
  if (!file.startsWith(root + "/")) return res.writeHead(403).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${server.address().port}/target/web/index.html?test`;

// The flags a closed network needs (no background connections, no updates).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page:", e));
  const version = browser.version();
  await page.goto(url);
  await page.waitForFunction(() => window.encodecResults, null, { timeout: 300_000 });
  const results = await page.evaluate(() => window.encodecResults);
  if (results.error) throw new Error(results.error);
  for (const run of results.runs) {
    const problems = compare(expected, run);
    for (const [file, r] of Object.entries(run.results)) {
      console.log(`chromium ${version} ${run.kernels}: ${file}: ${r.frames} frames, ${r.realTime.toFixed(1)}x real time, ${problems.some((p) => p.includes(file)) ? "DIFFERS" : "bit-exact"}`);
    }
    console.log(`chromium ${run.kernels}: instantiate ${run.instantiateMs.toFixed(0)} ms, first audio ${run.firstAudioMs.toFixed(0)} ms`);
    problems.forEach((p) => console.error(p));
    failed ||= problems.length > 0;
  }
  const { seconds, rms, decodedRms } = results.played;
  const want = expected["tests/fixtures/wasm/speech-6kbps-framed.lyra"].frames / 16000;
  console.log(`chromium Web Audio: played ${seconds.toFixed(3)} s (file ${want.toFixed(3)} s), RMS ${rms.toFixed(4)} (decoded ${decodedRms.toFixed(4)})`);
  if (Math.abs(seconds - want) > 1e-6 || !(Math.abs(rms / decodedRms - 1) < 0.05)) {
    console.error("Web Audio did not play the decoded samples");
    failed = true;
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
