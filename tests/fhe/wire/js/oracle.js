#!/usr/bin/env node
// node-seal (Microsoft SEAL 4.1 compiled to wasm) as the oracle for hecnn's
// SEAL wire-format tests. Every command prints one JSON object on stdout.
//
//   node oracle.js gen --out DIR --scheme bfv|ckks|bgv --n N [--bits 60,40,40,60]
//                      [--t-bits 20] [--scale-bits 40] [--steps 0,1,-1]
//       Writes parameters, keys (full and seeded: the same key saved both ways)
//       and ciphertexts in every compression mode into DIR, plus manifest.json
//       (parms_ids of the chain, primes, plaintext values).
//   node oracle.js check --dir DIR --type params|ct|pt|sk|pk|rk|gk --file F
//       Loads F with node-seal under DIR's parameters; prints {ok, error, size, ...}.
//   node oracle.js checkmany --dir DIR --files TYPE:FILE,TYPE:FILE,...
//       Same for many files in one process; ok is true when all loaded.
//   node oracle.js decrypt --dir DIR --file F [--sk FILE]
//       Decrypts F (with DIR's secret key, or FILE) and decodes it.
//   node oracle.js decryptmany --dir DIR --files F1,F2,... [--sk FILE]
//       Same for many files in one process: {ok, results: [...]}.
//   node oracle.js encrypt --dir DIR --pk FILE --out F --values 1,2,3 [--compr none]
//       Encrypts (BFV: batch-encoded ints, CKKS: reals at DIR's scale) with the given public key.
//   node oracle.js sealeval --dir DIR --file F --ops square,relin,modswitch,rot:1,cols,mulct2,addct2 --out G
//       Applies SEAL's own operations (DIR's full keys; DIR's second ciphertext switched to the
//       current level for mulct2 / addct2) to the ciphertext F in order; saves G.
//   node oracle.js resave --dir DIR --type T --file F --out G [--compr none]
//       Loads F and saves it again (a seeded object comes back expanded).
'use strict';
const fs = require('fs');
const path = require('path');
const SEAL = require('node-seal');

function args() {
  const a = { _: process.argv[2] };
  for (let i = 3; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  return a;
}
const hexId = (pid) => Array.from(pid.values).map((x) => x.toString(16).padStart(16, '0')).join('');
const MODES = ['none', 'zlib', 'zstd'];

async function loadDir(seal, dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json')));
  const parms = seal.EncryptionParameters();
  parms.loadArray(fs.readFileSync(path.join(dir, 'params.none.bin')));
  const ctx = seal.Context(parms, true, seal.SecurityLevel.tc128);
  if (!ctx.parametersSet()) throw new Error('parameters not set: ' + ctx.parametersErrorMessage());
  return { manifest, parms, ctx };
}

function loadObject(seal, ctx, type, bytes) {
  let o;
  switch (type) {
    case 'params': o = seal.EncryptionParameters(); o.loadArray(bytes); return o;
    case 'ct': o = seal.CipherText(); break;
    case 'pt': o = seal.PlainText(); break;
    case 'sk': o = seal.SecretKey(); break;
    case 'pk': o = seal.PublicKey(); break;
    case 'rk': o = seal.RelinKeys(); break;
    case 'gk': o = seal.GaloisKeys(); break;
    default: throw new Error('unknown type ' + type);
  }
  o.loadArray(ctx, bytes);
  return o;
}

function errText(seal, e) {
  if (typeof e === 'number') {
    try { return seal.Exception.getHuman(e); } catch (_) { return 'wasm exception ' + e; }
  }
  return e && e.message ? e.message : String(e);
}

async function gen(seal, a) {
  const out = a.out;
  fs.mkdirSync(out, { recursive: true });
  const scheme = a.scheme || 'bfv';
  const n = parseInt(a.n || '4096', 10);
  const parms = seal.EncryptionParameters(seal.SchemeType[scheme]);
  parms.setPolyModulusDegree(n);
  if (a.bits) parms.setCoeffModulus(seal.CoeffModulus.Create(n, Int32Array.from(a.bits.split(',').map(Number))));
  else parms.setCoeffModulus(seal.CoeffModulus.BFVDefault(n));
  if (scheme !== 'ckks') parms.setPlainModulus(seal.PlainModulus.Batching(n, parseInt(a['t-bits'] || '20', 10)));
  const ctx = seal.Context(parms, true, seal.SecurityLevel.tc128);
  if (!ctx.parametersSet()) throw new Error('parameters not set: ' + ctx.parametersErrorMessage());
  const write = (name, bytes) => fs.writeFileSync(path.join(out, name), bytes);
  for (const m of MODES) write(`params.${m}.bin`, parms.saveArray(seal.ComprModeType[m]));

  const chain = [];
  // node-seal wraps a null next pointer in a non-null object: stop at chain index 0.
  for (let cd = ctx.keyContextData; ; cd = cd.nextContextData) {
    chain.push({ parms_id: hexId(cd.parmsId), primes: cd.parms.coeffModulus.length, chain_index: cd.chainIndex });
    if (cd.chainIndex === 0 || chain.length > 64) break;
  }
  const kg = seal.KeyGenerator(ctx);
  const sk = kg.secretKey();
  write('sk.none.bin', sk.saveArray(seal.ComprModeType.none));
  write('sk.zstd.bin', sk.saveArray(seal.ComprModeType.zstd));

  // Seeded and full forms of the *same* key: save the seeded Serializable,
  // load it (SEAL expands c1 from the seed), save the loaded object in full.
  const both = (name, type, ser) => {
    for (const m of MODES) write(`${name}.seeded.${m}.bin`, ser.saveArray(seal.ComprModeType[m]));
    const obj = loadObject(seal, ctx, type, ser.saveArray(seal.ComprModeType.none));
    for (const m of MODES) write(`${name}.full.${m}.bin`, obj.saveArray(seal.ComprModeType[m]));
    return obj;
  };
  const pk = both('pk', 'pk', kg.createPublicKeySerializable());
  both('rk', 'rk', kg.createRelinKeysSerializable());
  const steps = (a.steps || '0,1,-1').split(',').map(Number);
  both('gk', 'gk', kg.createGaloisKeysSerializable(Int32Array.from(steps)));

  const enc = seal.Encryptor(ctx, pk, sk);
  const slots = scheme === 'ckks' ? n / 2 : n;
  const values = [];
  let pt;
  let scale = 1;
  if (scheme === 'ckks') {
    scale = Math.pow(2, parseInt(a['scale-bits'] || '40', 10));
    for (let i = 0; i < slots; i++) values.push(((i * 37) % 101) / 50 - 1);
    pt = seal.CKKSEncoder(ctx).encode(Float64Array.from(values), scale);
  } else {
    const t = Number(parms.plainModulus.value);
    for (let i = 0; i < slots; i++) values.push((i * 7919 + 13) % t);
    pt = seal.BatchEncoder(ctx).encode(Uint32Array.from(values));
  }
  for (const m of MODES) write(`pt.${m}.bin`, pt.saveArray(seal.ComprModeType[m]));
  const sym = enc.encryptSymmetricSerializable(pt);
  for (const m of MODES) write(`ct.seeded.${m}.bin`, sym.saveArray(seal.ComprModeType[m]));
  const symFull = loadObject(seal, ctx, 'ct', sym.saveArray(seal.ComprModeType.none));
  for (const m of MODES) write(`ct.full.${m}.bin`, symFull.saveArray(seal.ComprModeType[m]));
  const asym = enc.encrypt(pt);
  for (const m of MODES) write(`ct.pk.${m}.bin`, asym.saveArray(seal.ComprModeType[m]));

  // A second, independent operand (other values, its own encryption) for the binary
  // operations: a multiply or add that ignored its second input would show.
  const values2 = [];
  let pt2;
  if (scheme === 'ckks') {
    for (let i = 0; i < slots; i++) values2.push(((i * 53 + 11) % 97) / 60 - 0.8);
    pt2 = seal.CKKSEncoder(ctx).encode(Float64Array.from(values2), scale);
  } else {
    const t = Number(parms.plainModulus.value);
    for (let i = 0; i < slots; i++) values2.push((i * 104729 + 5) % t);
    pt2 = seal.BatchEncoder(ctx).encode(Uint32Array.from(values2));
  }
  const sym2 = enc.encryptSymmetricSerializable(pt2);
  for (const m of MODES) write(`ct2.seeded.${m}.bin`, sym2.saveArray(seal.ComprModeType[m]));
  const sym2Full = loadObject(seal, ctx, 'ct', sym2.saveArray(seal.ComprModeType.none));
  for (const m of MODES) write(`ct2.full.${m}.bin`, sym2Full.saveArray(seal.ComprModeType[m]));

  // SHAKE256: SEAL loads a seed of either PRNG type, so patch the type byte of
  // the seeded ciphertext (the byte before the 64 seed bytes) and let SEAL
  // expand it: the pair checks hecnn's SHAKE256 expansion. (It decrypts to garbage.)
  const seeded = Buffer.from(sym.saveArray(seal.ComprModeType.none));
  const typeAt = seeded.length - 65;
  let shake = { ok: false };
  if (seeded[typeAt] === 1) {
    seeded[typeAt] = 2;
    try {
      const c = loadObject(seal, ctx, 'ct', seeded);
      write('ct.shake.seeded.none.bin', seeded);
      write('ct.shake.full.none.bin', c.saveArray(seal.ComprModeType.none));
      shake = { ok: true };
    } catch (e) { shake = { ok: false, error: errText(seal, e) }; }
  }

  const manifest = {
    seal_version: seal.Version, scheme, n,
    coeff_modulus: Array.from(parms.coeffModulus, (q) => q.toString()),
    plain_modulus: scheme === 'ckks' ? '0' : parms.plainModulus.value.toString(),
    chain, scale, values, values2, shake,
    noise_budget: scheme === 'ckks' ? null : seal.Decryptor(ctx, sk).invariantNoiseBudget(symFull),
  };
  write('manifest.json', JSON.stringify(manifest));
  return { ok: true, out, chain, seal_version: seal.Version };
}

function decrypt(seal, env, a, file) {
  const { manifest, ctx } = env;
  const sk = loadObject(seal, ctx, 'sk', fs.readFileSync(a.sk || path.join(a.dir, 'sk.none.bin')));
  const ct = loadObject(seal, ctx, 'ct', fs.readFileSync(file || a.file));
  const dec = seal.Decryptor(ctx, sk);
  const pt = dec.decrypt(ct);
  const res = { ok: true, size: ct.size, parms_id: hexId(ct.parmsId), scale: ct.scale, is_ntt_form: ct.isNttForm };
  if (manifest.scheme === 'ckks') {
    res.values = Array.from(seal.CKKSEncoder(ctx).decode(pt));
  } else {
    res.values = Array.from(seal.BatchEncoder(ctx).decode(pt, false)).map(Number);
    res.noise_budget = dec.invariantNoiseBudget(ct);
  }
  return res;
}

function sealeval(seal, env, a) {
  const { ctx } = env;
  const full = (name, type) => loadObject(seal, ctx, type, fs.readFileSync(path.join(a.dir, name)));
  const rk = full('rk.full.none.bin', 'rk');
  const gk = full('gk.full.none.bin', 'gk');
  const ct2 = full('ct2.full.none.bin', 'ct');
  const ev = seal.Evaluator(ctx);
  let ct = loadObject(seal, ctx, 'ct', fs.readFileSync(a.file));
  for (const op of a.ops.split(',')) {
    if (op === 'square') ct = ev.square(ct);
    else if (op === 'relin') ct = ev.relinearize(ct, rk);
    else if (op === 'modswitch') ct = ev.cipherModSwitchToNext(ct);
    else if (op.startsWith('rot:')) ct = ev.rotateRows(ct, parseInt(op.slice(4), 10), gk);
    else if (op === 'cols') ct = ev.rotateColumns(ct, gk);
    else if (op === 'mulct2' || op === 'addct2') {
      // ct2 switched down to ct's level first (SEAL tracks its correction factor too).
      const other = ev.cipherModSwitchTo(ct2, ct.parmsId);
      ct = op === 'mulct2' ? ev.multiply(ct, other) : ev.add(ct, other);
    }
    else throw new Error('unknown op ' + op);
  }
  fs.writeFileSync(a.out, ct.saveArray(seal.ComprModeType.none));
  return { ok: true, size: ct.size, parms_id: hexId(ct.parmsId), is_ntt_form: ct.isNttForm };
}

function encrypt(seal, env, a) {
  const { manifest, ctx } = env;
  const pk = loadObject(seal, ctx, 'pk', fs.readFileSync(a.pk));
  const enc = seal.Encryptor(ctx, pk);
  const values = a.values.split(',').map(Number);
  const pt = manifest.scheme === 'ckks'
    ? seal.CKKSEncoder(ctx).encode(Float64Array.from(values), manifest.scale)
    : seal.BatchEncoder(ctx).encode(BigUint64Array.from(values.map(BigInt)));
  const ct = enc.encrypt(pt);
  fs.writeFileSync(a.out, ct.saveArray(seal.ComprModeType[a.compr || 'none']));
  return { ok: true };
}

(async () => {
  const a = args();
  const seal = await SEAL();
  let res;
  try {
    if (a._ === 'gen') res = await gen(seal, a);
    else {
      const env = await loadDir(seal, a.dir);
      if (a._ === 'check') {
        const bytes = fs.readFileSync(a.file);
        try {
          const o = loadObject(seal, env.ctx, a.type, bytes);
          res = { ok: true };
          if (a.type === 'ct') res = { ok: true, size: o.size, parms_id: hexId(o.parmsId), scale: o.scale, is_ntt_form: o.isNttForm };
        } catch (e) { res = { ok: false, error: errText(seal, e) }; }
      } else if (a._ === 'checkmany') {
        const results = a.files.split(',').map((tf) => {
          const i = tf.indexOf(':');
          try {
            loadObject(seal, env.ctx, tf.slice(0, i), fs.readFileSync(tf.slice(i + 1)));
            return { file: tf, ok: true };
          } catch (e) { return { file: tf, ok: false, error: errText(seal, e) }; }
        });
        res = { ok: results.every((r) => r.ok), results };
      } else if (a._ === 'decrypt') res = decrypt(seal, env, a);
      else if (a._ === 'decryptmany') {
        const results = a.files.split(',').map((f) => {
          try { return decrypt(seal, env, a, f); } catch (e) { return { ok: false, file: f, error: errText(seal, e) }; }
        });
        res = { ok: results.every((r) => r.ok), results };
      }
      else if (a._ === 'encrypt') res = encrypt(seal, env, a);
      else if (a._ === 'sealeval') res = sealeval(seal, env, a);
      else if (a._ === 'resave') {
        const o = loadObject(seal, env.ctx, a.type, fs.readFileSync(a.file));
        fs.writeFileSync(a.out, o.saveArray(seal.ComprModeType[a.compr || 'none']));
        res = { ok: true };
      } else throw new Error('unknown command ' + a._);
    }
  } catch (e) {
    res = { ok: false, error: errText(seal, e) };
    process.stdout.write(JSON.stringify(res) + '\n');
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(res) + '\n');
})();
