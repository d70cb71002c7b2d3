/* Try the networks: draw a character, and the book's three trained networks read it.
 *
 * The drawing is prepared as hwlib.text.prepare_crop prepares a crop of a photo, step by
 * step, and read by the forward pass of hwlib.train.classifier_probs. The weights and the
 * framing style come from try-networks-weights.js, which the book's build writes from
 * the networks that the notebooks trained (book/_ext/book_html.py).
 */
"use strict";

const TryNetworks = (() => {
  // ---- Preparation: hwlib.text.prepare_crop ----

  /** Zhang and Suen's thinning, as hwlib.text.thin: the number of skeleton pixels. */
  function skeletonSize(mask, h, w) {
    const W = w + 2;
    const ink = new Uint8Array((h + 2) * W);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) ink[(y + 1) * W + x + 1] = mask[y * w + x];
    }
    // The 8 neighbours, clockwise from the one above.
    const ring = [-W, -W + 1, 1, W + 1, W, W - 1, -1, -W - 1];
    let removed = true;
    while (removed) {
      removed = false;
      for (const half of [0, 1]) {
        const remove = [];
        for (let y = 1; y <= h; y++) {
          for (let x = 1; x <= w; x++) {
            const i = y * W + x;
            if (!ink[i]) continue;
            const v = ring.map((d) => ink[i + d]);
            const [n, , e, , s, , west] = v;
            const count = v.reduce((a, b) => a + b, 0);
            let changes = 0;
            for (let k = 0; k < 8; k++) changes += !v[k] && v[(k + 1) % 8];
            const keepShape = half === 0
              ? !(n && e && s) && !(e && s && west)
              : !(n && e && west) && !(n && s && west);
            if (count >= 2 && count <= 6 && changes === 1 && keepShape) remove.push(i);
          }
        }
        for (const i of remove) ink[i] = 0;
        removed = removed || remove.length > 0;
      }
    }
    return ink.reduce((a, b) => a + b, 0);
  }

  /** Squared Euclidean distance of every pixel to the nearest ink pixel, exactly, as
   * scipy.ndimage.distance_transform_edt: Felzenszwalb and Huttenlocher's lower
   * envelope of parabolas, along columns and then along rows. */
  function squaredDistanceToInk(mask, h, w) {
    const d = new Float64Array(h * w);
    for (let i = 0; i < h * w; i++) d[i] = mask[i] ? 0 : 1e20;
    const n = Math.max(h, w);
    const f = new Float64Array(n);
    const v = new Int32Array(n); // the parabolas of the envelope, by their vertex
    const z = new Float64Array(n + 1); // and where each one starts
    const along = (start, stride, length) => {
      for (let q = 0; q < length; q++) f[q] = d[start + q * stride];
      // Where the parabolas of vertices q and p meet.
      const meet = (q, p) => (f[q] + q * q - f[p] - p * p) / (2 * q - 2 * p);
      let k = 0;
      v[0] = 0;
      z[0] = -Infinity;
      z[1] = Infinity;
      for (let q = 1; q < length; q++) {
        while (meet(q, v[k]) <= z[k]) k--;
        k++;
        v[k] = q;
        z[k] = meet(q, v[k - 1]);
        z[k + 1] = Infinity;
      }
      k = 0;
      for (let q = 0; q < length; q++) {
        while (z[k + 1] < q) k++;
        d[start + q * stride] = (q - v[k]) * (q - v[k]) + f[v[k]];
      }
    };
    for (let x = 0; x < w; x++) along(x, w, h);
    for (let y = 0; y < h; y++) along(y * w, 1, w);
    return d;
  }

  // Boundary modes of scipy.ndimage: "mirror" (d c b | a b c d) and "reflect"
  // (c b a | a b c d), for an index any distance outside 0..n-1.
  const mirror = (i, n) => {
    if (n === 1) return 0;
    const period = 2 * n - 2;
    i = ((i % period) + period) % period;
    return i < n ? i : period - i;
  };
  const reflect = (i, n) => {
    i = ((i % (2 * n)) + 2 * n) % (2 * n);
    return i < n ? i : 2 * n - 1 - i;
  };

  /** scipy.ndimage.gaussian_filter along one axis (0: rows, 1: columns). */
  function gaussianAlong(img, h, w, sigma, axis, boundary) {
    if (sigma <= 1e-15) return img;
    const radius = Math.floor(4 * sigma + 0.5);
    const taps = 2 * radius + 1;
    let kernel = Array.from({ length: taps }, (_, k) => Math.exp((-0.5 / (sigma * sigma)) * (k - radius) ** 2));
    const total = kernel.reduce((a, b) => a + b, 0);
    kernel = kernel.map((v) => v / total);
    // For each position along the axis, the positions that its taps read.
    const [n, step] = axis === 0 ? [h, w] : [w, 1];
    const source = new Int32Array(n * taps);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < taps; k++) source[i * taps + k] = boundary(i + k - radius, n) * step;
    }
    const out = new Float64Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = axis === 0 ? y : x; // the position along the axis
        const base = axis === 0 ? x : y * w; // the start of its line
        let sum = 0;
        for (let k = 0; k < taps; k++) sum += kernel[k] * img[base + source[i * taps + k]];
        out[y * w + x] = sum;
      }
    }
    return out;
  }

  /** skimage.transform.resize(img, (oh, ow), anti_aliasing=True): a Gaussian of
   * sigma (factor - 1) / 2 per axis, then linear interpolation between pixel centres. */
  function resize(img, h, w, oh, ow) {
    const [fy, fx] = [h / oh, w / ow];
    let blurred = gaussianAlong(img, h, w, Math.max(0, (fy - 1) / 2), 0, mirror);
    blurred = gaussianAlong(blurred, h, w, Math.max(0, (fx - 1) / 2), 1, mirror);
    let lo = Infinity; // the output is clipped to the input's range
    let hi = -Infinity;
    for (let i = 0; i < h * w; i++) {
      lo = Math.min(lo, img[i]);
      hi = Math.max(hi, img[i]);
    }
    const taps = (o, factor, n) => {
      const c = mirrorCoordinate((o + 0.5) * factor - 0.5, n);
      const i = Math.floor(c);
      return [i, mirror(i + 1, n), c - i];
    };
    const out = new Float64Array(oh * ow);
    for (let oy = 0; oy < oh; oy++) {
      const [y0, y1, ty] = taps(oy, fy, h);
      for (let ox = 0; ox < ow; ox++) {
        const [x0, x1, tx] = taps(ox, fx, w);
        const top = (1 - tx) * blurred[y0 * w + x0] + tx * blurred[y0 * w + x1];
        const bottom = (1 - tx) * blurred[y1 * w + x0] + tx * blurred[y1 * w + x1];
        out[oy * ow + ox] = Math.min(hi, Math.max(lo, (1 - ty) * top + ty * bottom));
      }
    }
    return out;
  }

  /** A coordinate outside 0..n-1 mirrored back into it, as scipy.ndimage's "mirror". */
  function mirrorCoordinate(c, n) {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    c = Math.abs(c) % period;
    return c > n - 1 ? period - c : c;
  }

  /** Python's round(): halves go to the even neighbour. */
  function roundHalfEven(v) {
    const r = Math.round(v);
    return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  /** One character's binary mask (h x w, 1 for ink) as the network's 1024 inputs:
   * framed, thickened, dark on white and transposed, as prepare_crop(mask, style). */
  function prepare(mask, h, w, style) {
    let ink = 0;
    for (const m of mask) ink += m;
    const stroke = ink / Math.max(skeletonSize(mask, h, w), 1);
    const grow = (style.stroke * Math.max(h, w) / style.extent - stroke) / 2;
    if (grow > 0.5) {
      // Thicken thin pen strokes by exactly grow pixels on each side.
      const pad = Math.ceil(grow);
      const [ph, pw] = [h + 2 * pad, w + 2 * pad];
      const padded = new Uint8Array(ph * pw);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) padded[(y + pad) * pw + x + pad] = mask[y * w + x];
      }
      const d2 = squaredDistanceToInk(padded, ph, pw);
      mask = new Uint8Array(ph * pw);
      for (let i = 0; i < ph * pw; i++) mask[i] = Math.sqrt(d2[i]) <= grow ? 1 : 0;
      [h, w] = [ph, pw];
    }
    const scale = style.extent / Math.max(h, w);
    const oh = Math.max(roundHalfEven(h * scale), 1);
    const ow = Math.max(roundHalfEven(w * scale), 1);
    const small = resize(new Float64Array(mask), h, w, oh, ow);
    const [sh, sw] = [Math.min(oh, 32), Math.min(ow, 32)];
    const [top, left] = [Math.floor((32 - sh) / 2), Math.floor((32 - sw) / 2)];
    let canvas = new Float64Array(32 * 32);
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) canvas[(top + y) * 32 + left + x] = small[y * ow + x];
    }
    canvas = gaussianAlong(canvas, 32, 32, style.blur, 0, reflect);
    canvas = gaussianAlong(canvas, 32, 32, style.blur, 1, reflect);
    const row = new Float64Array(1024);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) row[x * 32 + y] = 1 - Math.min(1, Math.max(0, canvas[y * 32 + x]));
    }
    return row;
  }

  // ---- The networks: hwlib.train.classifier_probs ----

  /** A little-endian float32 array from its base64 text. */
  function float32s(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }

  /** The activations of the dense layers before the output, as hwlib.nn's. */
  const ACTIVATIONS = {
    sigmoid: (v) => 0.5 * (1 + Math.tanh(0.5 * v)),
    relu: (v) => Math.max(v, 0),
  };

  /** An exported network with its weights decoded: convolution stages (none for the
   * fully connected networks), then dense layers {W (in x out, row-major), b, rows, cols}. */
  function decode(network) {
    const weights = (l) => ({ ...l, W: float32s(l.W), b: float32s(l.b) });
    if (!(network.activation in ACTIVATIONS)) {
      throw new Error(`${network.title}: no activation named ${network.activation}`);
    }
    return {
      activation: ACTIVATIONS[network.activation],
      convolutions: network.convolutions.map(weights),
      layers: network.layers.map(weights),
    };
  }

  /** One stage of hwlib.conv: a size x size convolution ('valid', stride 1) with relu,
   * then 2x2 max pooling. Images are side x side x channels, row-major. */
  function convolveAndPool(a, side, stage) {
    const { size: k, channels: C, filters: F, W, b } = stage;
    const out = side - k + 1;
    const z = new Float64Array(out * out * F);
    for (let i = 0; i < out; i++) {
      for (let j = 0; j < out; j++) {
        const o = (i * out + j) * F;
        for (let f = 0; f < F; f++) z[o + f] = b[f];
        for (let di = 0; di < k; di++) {
          for (let dj = 0; dj < k; dj++) {
            for (let c = 0; c < C; c++) {
              const v = a[((i + di) * side + j + dj) * C + c];
              const w = ((di * k + dj) * C + c) * F;
              for (let f = 0; f < F; f++) z[o + f] += v * W[w + f];
            }
          }
        }
        for (let f = 0; f < F; f++) z[o + f] = Math.max(z[o + f], 0);
      }
    }
    const half = out / 2;
    const pooled = new Float64Array(half * half * F);
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < half; j++) {
        for (let f = 0; f < F; f++) {
          const at = (y, x) => z[(y * out + x) * F + f];
          pooled[(i * half + j) * F + f] = Math.max(
            at(2 * i, 2 * j), at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j), at(2 * i + 1, 2 * j + 1),
          );
        }
      }
    }
    return [pooled, half];
  }

  /** The class probabilities of one input row, as hwlib.train.classifier_probs: the
   * convolution stages on the row as a 32x32 image, then the dense layers (sigmoid, or
   * relu after convolutions), then softmax. */
  function probabilities(net, x) {
    let a = x;
    let side = 32;
    for (const stage of net.convolutions) [a, side] = convolveAndPool(a, side, stage);
    net.layers.forEach((layer, k) => {
      if (a.length !== layer.rows) {
        throw new Error(`a layer of ${layer.rows} inputs is given ${a.length} values`);
      }
      const z = Float64Array.from(layer.b);
      for (let i = 0; i < layer.rows; i++) {
        const offset = i * layer.cols;
        for (let j = 0; j < layer.cols; j++) z[j] += a[i] * layer.W[offset + j];
      }
      if (k < net.layers.length - 1) {
        a = z.map(net.activation);
      } else {
        const top = Math.max(...z);
        const e = z.map((v) => Math.exp(v - top));
        const total = e.reduce((s, v) => s + v, 0);
        a = e.map((v) => v / total);
      }
    });
    return Array.from(a);
  }

  // ---- The page ----

  /** The ink of the drawing canvas, cropped to its bounding box, or null if blank. */
  function drawnMask(canvas) {
    const { width, height } = canvas;
    const alpha = canvas.getContext("2d").getImageData(0, 0, width, height).data;
    let [y1, x1, y2, x2] = [height, width, -1, -1];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (alpha[(y * width + x) * 4 + 3] >= 128) {
          [y1, x1, y2, x2] = [Math.min(y1, y), Math.min(x1, x), Math.max(y2, y), Math.max(x2, x)];
        }
      }
    }
    if (y2 < 0) return null;
    const [h, w] = [y2 - y1 + 1, x2 - x1 + 1];
    const mask = new Uint8Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) mask[y * w + x] = alpha[((y + y1) * width + x + x1) * 4 + 3] >= 128;
    }
    return { mask, height: h, width: w };
  }

  function start(root, data) {
    const networks = Object.fromEntries(
      Object.entries(data.networks).map(([name, network]) => [name, decode(network)]),
    );
    if (!(data.default in data.networks)) throw new Error(`no network named ${data.default}`);
    // One button per exported network, the default one chosen.
    const choices = root.querySelector(".try-choice");
    for (const [name, network] of Object.entries(data.networks)) {
      const accuracy = (100 * network.test_accuracy).toFixed(1);
      const button = Object.assign(document.createElement("input"), {
        type: "radio",
        name: "try-network",
        value: name,
        checked: name === data.default,
      });
      const label = document.createElement("label");
      label.append(button, ` ${network.title} (${network.shape}, ${accuracy} % on the test set)`);
      choices.append(label);
    }
    const canvas = root.querySelector(".try-canvas");
    const context = canvas.getContext("2d");
    const preview = root.querySelector(".try-input").getContext("2d");
    const bars = root.querySelector(".try-bars");
    const choice = () => root.querySelector("input[name=try-network]:checked").value;
    // What the page read last: the book's browser test compares it with Python's.
    const state = { mask: null, input: null, probabilities: {} };
    let last = null;
    let pending = false;

    function show() {
      pending = false;
      const drawn = drawnMask(canvas);
      state.mask = drawn;
      state.input = drawn ? prepare(drawn.mask, drawn.height, drawn.width, data.style) : null;
      state.probabilities = {};
      for (const [name, net] of Object.entries(networks)) {
        state.probabilities[name] = state.input ? probabilities(net, state.input) : null;
      }
      // What the network sees, upright (its input row holds the image transposed).
      const image = preview.createImageData(32, 32);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const v = Math.round(255 * (state.input ? state.input[x * 32 + y] : 1));
          image.data.set([v, v, v, 255], (y * 32 + x) * 4);
        }
      }
      preview.putImageData(image, 0, 0);
      const probs = state.probabilities[choice()];
      bars.replaceChildren();
      if (!probs) {
        bars.textContent = "Draw a letter or a digit in the box.";
        return;
      }
      const ranked = probs.map((p, k) => [p, data.classes[k]]).sort((a, b) => b[0] - a[0]);
      for (const [p, label] of ranked.slice(0, 5)) {
        const item = document.createElement("li");
        const bar = document.createElement("span");
        bar.className = "try-bar";
        bar.style.width = `${(100 * p).toFixed(1)}%`;
        item.append(
          Object.assign(document.createElement("span"), { className: "try-label", textContent: label }),
          Object.assign(document.createElement("span"), { className: "try-track" }),
          Object.assign(document.createElement("span"), {
            className: "try-percent",
            textContent: `${(100 * p).toFixed(1)} %`,
          }),
        );
        item.querySelector(".try-track").append(bar);
        bars.append(item);
      }
    }
    const showSoon = () => {
      if (!pending) {
        pending = true;
        requestAnimationFrame(show);
      }
    };

    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      return [
        ((event.clientX - box.left) * canvas.width) / box.width,
        ((event.clientY - box.top) * canvas.height) / box.height,
      ];
    };
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = canvas.width / 24;
    canvas.addEventListener("pointerdown", (event) => {
      canvas.setPointerCapture(event.pointerId);
      last = at(event);
      context.beginPath();
      context.arc(last[0], last[1], context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
      showSoon();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (last === null) return;
      const point = at(event);
      context.beginPath();
      context.moveTo(...last);
      context.lineTo(...point);
      context.stroke();
      last = point;
      showSoon();
    });
    for (const end of ["pointerup", "pointercancel"]) {
      canvas.addEventListener(end, () => (last = null));
    }
    root.querySelector(".try-clear").addEventListener("click", () => {
      context.clearRect(0, 0, canvas.width, canvas.height);
      showSoon();
    });
    root.querySelectorAll("input[name=try-network]").forEach((input) => input.addEventListener("change", show));
    show();
    return state;
  }

  return { start };
})();

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("try-networks");
  if (root && window.TRY_NETWORKS_DATA) window.tryNetworksState = TryNetworks.start(root, window.TRY_NETWORKS_DATA);
});
