// A small NIfTI-1 reader for the playground: the uploaded FLAIR volume and the mask the gateway returns are
// drawn slice by slice in the browser. Reads .nii and .nii.gz (gzip through the browser's own
// DecompressionStream), either byte order, the common voxel types, and scl_slope/scl_inter.
"use strict";

const NIfTI = (() => {
  const TYPES = {
    2: [1, (dv, o) => dv.getUint8(o)],
    4: [2, (dv, o, le) => dv.getInt16(o, le)],
    8: [4, (dv, o, le) => dv.getInt32(o, le)],
    16: [4, (dv, o, le) => dv.getFloat32(o, le)],
    64: [8, (dv, o, le) => dv.getFloat64(o, le)],
    256: [1, (dv, o) => dv.getInt8(o)],
    512: [2, (dv, o, le) => dv.getUint16(o, le)],
    768: [4, (dv, o, le) => dv.getUint32(o, le)],
  };

  async function gunzip(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  /** bytes (ArrayBuffer or Uint8Array) -> {nx, ny, nz, data: Float32Array (x fastest), pixdim: [dx, dy, dz]} */
  async function read(input) {
    let bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await gunzip(bytes);
    if (bytes.byteLength < 352) throw new Error("file too short for a NIfTI-1 header");
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = dv.getInt32(0, true) === 348;
    if (!le && dv.getInt32(0, false) !== 348) throw new Error("not a NIfTI-1 file");
    const dim = Array.from({ length: 8 }, (_, i) => dv.getInt16(40 + 2 * i, le));
    const pixdim = Array.from({ length: 3 }, (_, i) => dv.getFloat32(80 + 4 * i, le));
    const datatype = dv.getInt16(70, le);
    const type = TYPES[datatype];
    if (!type) throw new Error(`NIfTI datatype ${datatype} is not supported here`);
    const [size, get] = type;
    const nx = dim[1], ny = dim[2], nz = dim[0] >= 3 ? dim[3] : 1;
    const n = nx * ny * nz;
    const offset = Math.floor(dv.getFloat32(108, le));
    if (offset + n * size > bytes.byteLength) throw new Error("NIfTI data shorter than its header says");
    let slope = dv.getFloat32(112, le), inter = dv.getFloat32(116, le);
    if (!slope) { slope = 1; inter = 0; }
    const data = new Float32Array(n);
    for (let i = 0, o = offset; i < n; i++, o += size) data[i] = get(dv, o, le) * slope + inter;
    return { nx, ny, nz, data, pixdim };
  }

  /** Intensity window [lo, hi] from the 1st and 99th percentiles of the non-zero voxels. */
  function window(data) {
    const vals = [];
    const step = Math.max(1, Math.floor(data.length / 50000));
    for (let i = 0; i < data.length; i += step) if (data[i] !== 0) vals.push(data[i]);
    if (!vals.length) return [0, 1];
    vals.sort((a, b) => a - b);
    const lo = vals[Math.floor(vals.length * 0.01)], hi = vals[Math.floor(vals.length * 0.99)];
    return [lo, hi > lo ? hi : lo + 1];
  }

  /** Axial slice k ([:, :, k]) into an ImageData: rows = x, columns = y; mask voxels blended in red. */
  function drawSlice(ctx, vol, k, win, mask) {
    const { nx, ny } = vol;
    const img = ctx.createImageData(ny, nx);
    const base = nx * ny * k;
    const [lo, hi] = win;
    for (let x = 0; x < nx; x++) {
      for (let y = 0; y < ny; y++) {
        const v = vol.data[base + x + nx * y];
        let g = Math.max(0, Math.min(255, ((v - lo) / (hi - lo)) * 255));
        let r = g, gg = g, b = g;
        if (mask && mask.data[base + x + nx * y] > 0) {
          r = 0.55 * g + 0.45 * 255; gg = 0.55 * g + 0.45 * 40; b = 0.55 * g + 0.45 * 40;
        }
        const p = 4 * (x * ny + y);
        img.data[p] = r; img.data[p + 1] = gg; img.data[p + 2] = b; img.data[p + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  return { read, window, drawSlice };
})();
