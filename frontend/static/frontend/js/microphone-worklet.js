// AudioWorklet processor: the microphone's audio (at the context's rate, 44.1 or 48 kHz usually)
// as 16-bit PCM at 16 kHz mono, posted to the page in ~100-ms frames with their RMS level.
// The page puts a low-pass filter before this node, so plain linear interpolation does not alias.

class OutcryPcmDownsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const settings = options.processorOptions || {};
    this.targetRate = settings.targetRate || 16000;
    this.step = sampleRate / this.targetRate; // input samples per output sample
    this.position = 1; // next output position in [previous, ...block]
    this.previous = 0;
    this.frameLength = Math.round((this.targetRate * (settings.frameMs || 100)) / 1000);
    this.frame = new Int16Array(this.frameLength);
    this.fill = 0;
    this.sumSquares = 0;
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data === "stop") this.running = false;
    };
  }

  process(inputs) {
    if (!this.running) return false;
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const length = input[0].length;
    let mono = input[0];
    if (input.length > 1) {
      mono = new Float32Array(length);
      for (const channel of input) for (let i = 0; i < length; i += 1) mono[i] += channel[i] / input.length;
    }
    while (this.position <= length) {
      const index = Math.floor(this.position);
      const fraction = this.position - index;
      const a = index === 0 ? this.previous : mono[index - 1];
      const b = index < length ? mono[index] : a;
      this.push(a + (b - a) * fraction);
      this.position += this.step;
    }
    this.position -= length;
    this.previous = mono[length - 1];
    return true;
  }

  push(value) {
    const sample = Math.max(-1, Math.min(1, value));
    this.frame[this.fill] = sample < 0 ? sample * 32768 : sample * 32767;
    this.sumSquares += sample * sample;
    this.fill += 1;
    if (this.fill === this.frameLength) {
      const rms = Math.sqrt(this.sumSquares / this.fill);
      this.port.postMessage({ pcm: this.frame.buffer, rms }, [this.frame.buffer]);
      this.frame = new Int16Array(this.frameLength); // the old buffer was handed over (detached)
      this.fill = 0;
      this.sumSquares = 0;
    }
  }
}

registerProcessor("outcry-pcm-downsampler", OutcryPcmDownsampler);
