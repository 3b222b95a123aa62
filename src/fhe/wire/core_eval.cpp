#include "fhe/wire/core_eval.h"

#include <stdexcept>

#include "fhe/bgv/evaluator.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/bfv/level_tables.h"
#include "fhe/ckks/evaluator.h"
#include "fhe/wire/core_convert.h"
#include "fhe/wire/error.h"

namespace hecnn::wire {

namespace {

void need(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

EvalContext::EvalContext(std::span<const std::uint8_t> parameters, bool enforce_128bit_security)
    : wire_(read_parameters(parameters, ValidationOptions{enforce_128bit_security}).parms,
            ValidationOptions{enforce_128bit_security}),
      core_(make_core_context(wire_, enforce_128bit_security)),
      bfv_(wire_.scheme() == Scheme::bfv ? bfv::make_tables(core_) : nullptr),
      bgv_(wire_.scheme() == Scheme::bgv ? bgv::make_tables(core_) : nullptr) {}

EvalResult evaluate(const EvalInputs& in, const EvalRequest& req) {
  return evaluate(EvalContext(in.parameters, req.enforce_128bit_security), in, req);
}

EvalResult evaluate(const EvalContext& ectx, const EvalInputs& in, const EvalRequest& req) {
  const Context& wctx = ectx.wire();
  need(!in.ciphertexts.empty() && in.ciphertexts.size() <= 2, "seal-eval: give one or two ciphertexts");

  std::vector<rlwe::Ciphertext> cts;
  Header first_header;
  for (std::size_t i = 0; i < in.ciphertexts.size(); ++i) {
    auto loaded = read_ciphertext(wctx, in.ciphertexts[i], req.read);
    if (i == 0) first_header = loaded.header;
    cts.push_back(to_core(wctx, loaded.value));
  }
  std::optional<rlwe::RelinKeys> rk;
  if (in.relin_keys) rk = to_core(wctx, read_relin_keys(wctx, *in.relin_keys, req.read).value);
  std::optional<rlwe::GaloisKeys> gk;
  if (in.galois_keys) gk = to_core(wctx, read_galois_keys(wctx, *in.galois_keys, req.read).value);
  std::optional<PlaintextData> pt;
  if (in.plaintext) pt = read_plaintext(wctx, *in.plaintext, req.read).value;

  const std::string& op = req.op;
  auto second = [&]() -> const rlwe::Ciphertext& {
    need(cts.size() == 2, "seal-eval: '" + op + "' needs two ciphertexts");
    return cts[1];
  };
  auto relin = [&]() -> const rlwe::RelinKeys& {
    need(rk.has_value(), "seal-eval: '" + op + "' needs relinearization keys");
    return *rk;
  };
  auto galois = [&]() -> const rlwe::GaloisKeys& {
    need(gk.has_value(), "seal-eval: '" + op + "' needs Galois keys");
    return *gk;
  };
  auto plain = [&]() -> const PlaintextData& {
    need(pt.has_value(), "seal-eval: '" + op + "' needs a plaintext");
    return *pt;
  };
  rlwe::Ciphertext& a = cts[0];

  // BFV and BGV share the operation names and the evaluator interface.
  auto integer_op = [&](const auto& ev, const char* scheme) {
    auto bfv_plain = [&] { return bfv::Plaintext{bfv_plain_to_core(wctx, plain())}; };
    if (op == "add") ev.add_inplace(a, second());
    else if (op == "sub") ev.sub_inplace(a, second());
    else if (op == "negate") ev.negate_inplace(a);
    else if (op == "multiply" || op == "square") {
      if (op == "multiply") ev.multiply_inplace(a, second());
      else ev.square_inplace(a);
      if (rk) ev.relinearize_inplace(a, *rk);
    } else if (op == "relinearize") ev.relinearize_inplace(a, relin());
    else if (op == "add_plain") ev.add_plain_inplace(a, bfv_plain());
    else if (op == "multiply_plain") ev.multiply_plain_inplace(a, bfv_plain());
    else if (op == "rotate_rows" || op == "rotate") ev.rotate_rows_inplace(a, req.step, galois());
    else if (op == "rotate_columns") ev.rotate_columns_inplace(a, galois());
    else if (op == "mod_switch") ev.mod_switch_to_next_inplace(a);
    else throw std::invalid_argument(std::string("seal-eval: unknown ") + scheme + " operation '" + op + "'");
  };
  if (wctx.scheme() == Scheme::bfv) {
    integer_op(bfv::Evaluator(ectx.bfv_tables()), "BFV");
  } else if (wctx.scheme() == Scheme::bgv) {
    integer_op(bgv::Evaluator(ectx.bgv_tables()), "BGV");
  } else {
    const ckks::Evaluator ev(ectx.core());
    auto ckks_plain = [&] {
      const auto& p = plain();
      need(p.parms_id != kZeroParmsId, "seal-eval: CKKS plaintexts must be in NTT form");
      const Level* l = wctx.find(p.parms_id);
      ckks::Plaintext out;
      out.n = wctx.n();
      out.num_primes = l->prime_count;
      out.scale = p.scale;
      out.data = p.data;
      return out;
    };
    if (op == "add") ev.add_inplace(a, second());
    else if (op == "sub") ev.sub_inplace(a, second());
    else if (op == "negate") ev.negate_inplace(a);
    else if (op == "multiply" || op == "square") {
      if (op == "multiply") ev.multiply_inplace(a, second());
      else ev.square_inplace(a);
      if (rk) ev.relinearize_inplace(a, *rk);
      if (req.rescale) ev.rescale_to_next_inplace(a);
    } else if (op == "relinearize") ev.relinearize_inplace(a, relin());
    else if (op == "add_plain") ev.add_plain_inplace(a, ckks_plain());
    else if (op == "multiply_plain") {
      ev.multiply_plain_inplace(a, ckks_plain());
      if (req.rescale) ev.rescale_to_next_inplace(a);
    } else if (op == "rotate" || op == "rotate_rows") ev.rotate_inplace(a, req.step, galois());
    else if (op == "conjugate") ev.conjugate_inplace(a, galois());
    else if (op == "mod_switch") ev.mod_switch_to_next_inplace(a);
    else if (op == "rescale") ev.rescale_to_next_inplace(a);
    else throw std::invalid_argument("seal-eval: unknown CKKS operation '" + op + "'");
  }
  EvalResult res;
  res.ciphertext = to_wire(wctx, a);
  res.bytes = write_ciphertext(wctx, res.ciphertext,
                               WriteOptions{first_header.version, req.compression.value_or(first_header.compression)});
  return res;
}

}  // namespace hecnn::wire
