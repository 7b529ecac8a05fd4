// encodec.js: the encodec WebAssembly decoders for browsers and Node (ES module, no
// dependencies). `.ecdc` (with an EnCodec model you load), `.lyra` framed files, gzip, WAV and
// the containers symphonia reads are decoded whole; raw Lyra packets as they arrive.
//
//   import { load } from "./encodec.js";
//   const codec = await load(fetch("encodec.wasm"));        // or the module's bytes
//   const { sampleRate, channels, samples } = codec.decode(bytes);  // samples: Float32Array[]
//   const stream = codec.lyraStream(6);                     // 3.2, 6 or 9.2 kbps
//   stream.push(chunk); ... stream.finish();                // each returns decoded PCM

/** Instantiates the module from a Response (or a promise of one), bytes, or a Module. */
export async function load(source) {
  source = await source;
  let instance;
  if (source instanceof WebAssembly.Module) {
    instance = await WebAssembly.instantiate(source, {});
  } else if (typeof Response !== "undefined" && source instanceof Response) {
    instance = (await WebAssembly.instantiate(await source.arrayBuffer(), {})).instance;
  } else {
    instance = (await WebAssembly.instantiate(source, {})).instance;
  }
  return new Decoder(instance.exports);
}

/** The module's decoders; one per module instance (it is single-threaded). */
export class Decoder {
  constructor(exports) {
    this.w = exports;
    this.handle = exports.encodec_decoder_new();
  }

  /** Loads the EnCodec model `.ecdc` files need: its config.json text and safetensors bytes. */
  loadEncodec(configJson, safetensors) {
    const config = new TextEncoder().encode(configJson);
    this.#withBytes(config, (cp, cl) =>
      this.#withBytes(safetensors, (wp, wl) => this.#check(this.w.encodec_decoder_load_encodec(this.handle, cp, cl, wp, wl))),
    );
  }

  /** The kernel path: "simd128" (the default) or "portable"; both give the same bits. */
  setKernels(name) {
    this.#withBytes(new TextEncoder().encode(name), (p, l) => this.#check(this.w.encodec_decoder_set_kernels(this.handle, p, l)));
  }

  /** Decodes a whole file: `{ sampleRate, channels, samples: Float32Array[] }`. */
  decode(bytes) {
    return this.#pcm(this.#withBytes(bytes, (p, l) => this.w.encodec_decode(this.handle, p, l)));
  }

  /** A decoder of raw Lyra packets at `kbps`, fed pieces of any size. */
  lyraStream(kbps) {
    const stream = this.w.encodec_lyra_stream_new(this.handle, kbps);
    if (!stream) throw new Error(this.#error());
    const decoder = this;
    let live = stream;
    return {
      /** The PCM the next bytes complete (possibly no samples). */
      push(bytes) {
        if (!live) throw new Error("stream finished");
        return decoder.#pcm(decoder.#withBytes(bytes, (p, l) => decoder.w.encodec_stream_push(live, p, l)));
      },
      /** Ends the stream (an error if it stopped inside a packet) and frees it. */
      finish() {
        if (!live) throw new Error("stream finished");
        const pcm = decoder.w.encodec_stream_finish(live);
        live = 0;
        return decoder.#pcm(pcm);
      },
    };
  }

  /** Frees the decoder and its model. */
  free() {
    this.w.encodec_decoder_free(this.handle);
    this.handle = 0;
  }

  #withBytes(bytes, f) {
    const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const ptr = this.w.encodec_alloc(data.length);
    try {
      new Uint8Array(this.w.memory.buffer, ptr, data.length).set(data);
      return f(ptr, data.length);
    } finally {
      this.w.encodec_free(ptr, data.length);
    }
  }

  #pcm(handle) {
    if (!handle) throw new Error(this.#error());
    try {
      const w = this.w;
      const frames = w.encodec_pcm_frames(handle);
      const samples = [];
      for (let c = 0; c < w.encodec_pcm_channels(handle); c++) {
        // A copy: the module's memory moves when it grows.
        samples.push(new Float32Array(w.memory.buffer, w.encodec_pcm_channel(handle, c), frames).slice());
      }
      return { sampleRate: w.encodec_pcm_sample_rate(handle), channels: samples.length, samples };
    } finally {
      this.w.encodec_pcm_free(handle);
    }
  }

  #check(status) {
    if (status !== 0) throw new Error(this.#error());
  }

  #error() {
    const bytes = new Uint8Array(this.w.memory.buffer, this.w.encodec_error(), this.w.encodec_error_len());
    return new TextDecoder().decode(bytes.slice());
  }
}
