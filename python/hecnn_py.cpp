// The Python binding (pybind11): hecnn._hecnn, wrapped by python/hecnn/__init__.py.
//
// Thin: every call goes to the C++ API users of the library call (nn/model, nn/compiler,
// nn/runtime) and errors surface as Python exceptions with the C++ message (ValueError for
// bad arguments and malformed files, RuntimeError otherwise). Images cross as any object with
// the buffer protocol (bytes, bytearray, memoryview, NumPy uint8 arrays): no NumPy is needed
// to import the module; the Python layer turns results into NumPy arrays when NumPy is there.
// Long calls (compile, encrypt, evaluate, decrypt) release the GIL.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "math/prng.h"
#include "nn/compiler/compiler.h"
#include "nn/compiler/plan_io.h"
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/image.h"
#include "nn/model/model_io.h"
#include "nn/model/onnx_import.h"
#include "nn/runtime/client_server.h"
#include "nn/runtime/pipeline.h"
#if HECNN_PY_SERVICE
#include "service/client.h"
#endif

namespace py = pybind11;
using namespace hecnn;

namespace {

// Bytes of a buffer-protocol object (C-contiguous, 1-byte items).
std::vector<std::uint8_t> bytes_of(const py::buffer& b, const char* what) {
  py::buffer_info info = b.request();
  if (info.itemsize != 1) throw std::invalid_argument(std::string(what) + ": expected uint8 pixels (0..255), got items of " +
                                                      std::to_string(info.itemsize) + " bytes");
  std::size_t n = 1;
  std::ptrdiff_t expect = 1;
  for (std::size_t i = info.ndim; i-- > 0;) {
    if (info.strides[i] != expect) throw std::invalid_argument(std::string(what) + ": the array must be C-contiguous");
    expect *= info.shape[i];
    n *= std::size_t(info.shape[i]);
  }
  const auto* p = static_cast<const std::uint8_t*>(info.ptr);
  return std::vector<std::uint8_t>(p, p + n);
}

struct PyModel {
  nn::Model m;
};

struct PyPlan {
  std::shared_ptr<const nn::compiler::Program> prog;
};

struct PyKeys {
  std::shared_ptr<const nn::compiler::Program> prog;
  nn::runtime::EvaluationKeys keys;
};

struct PyBatch {
  std::shared_ptr<const nn::compiler::Program> prog;
  std::shared_ptr<nn::runtime::EncryptedBatch> batch;
};

struct PyResult {
  std::shared_ptr<const nn::compiler::Program> prog;
  std::shared_ptr<nn::runtime::EncryptedResult> result;
};

// The client owns its PRNG (the OS CSPRNG) and keeps the plan alive.
struct PyClient {
  std::shared_ptr<const nn::compiler::Program> prog;
  std::unique_ptr<math::SystemPrng> prng;
  std::unique_ptr<nn::runtime::Client> client;
};

struct PyServer {
  std::shared_ptr<const nn::compiler::Program> prog;
  std::unique_ptr<nn::runtime::Server> server;
};

nlohmann::json model_info(const nn::Model& m) {
  nlohmann::json layers = nlohmann::json::array();
  const auto shapes = nn::output_shapes(m);
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    layers.push_back({{"type", nn::layer_type(m.layers[i])}, {"output_shape", {shapes[i].c, shapes[i].h, shapes[i].w}}});
  return {{"name", m.meta.name},
          {"architecture", m.meta.architecture},
          {"dataset", m.meta.dataset},
          {"created_by", m.meta.created_by},
          {"input_shape", {m.input.shape.c, m.input.shape.h, m.input.shape.w}},
          {"input_scale", m.input.scale},
          {"input_offset", m.input.offset},
          {"classes", m.num_classes()},
          {"parameters", nn::parameter_count(m)},
          {"activation", m.meta.activation.function},
          {"test_accuracy", m.meta.test_accuracy},
          {"layers", layers}};
}

nlohmann::json plan_info(const nn::compiler::Program& prog) {
  const bool ckks = prog.scheme == nn::compiler::Scheme::ckks;
  const auto c = nn::compiler::cost(prog);
  return {{"program", prog.description},
          {"scheme", nn::compiler::scheme_name(prog.scheme)},
          {"poly_degree", prog.poly_degree()},
          {"images_per_ciphertext", prog.batch_capacity()},
          {"coeff_modulus", ckks ? prog.ckks.coeff_modulus : prog.params.coeff_modulus},
          {"plain_moduli", prog.params.plain_moduli},
          {"depth", c.depth},
          {"ct_mults", c.ct_mults},
          {"relins", c.relins},
          {"rescales", c.rescales},
          {"scalar_mults", c.scalar_mults},
          {"peak_bytes", c.peak_bytes},
          {"input_bytes", c.input_bytes},
          {"output_bytes", c.output_bytes},
          {"key_bytes", c.key_bytes},
          {"keys", prog.keys},
          {"predicted_noise_budget_bits", prog.predicted_final_budget},
          {"predicted_precision_bits", prog.predicted_precision_bits},
          {"outputs", prog.outputs.size()}};
}

py::object to_py(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

}  // namespace

PYBIND11_MODULE(_hecnn, mod) {
  mod.doc() = "hecnn: private CNN inference over homomorphic encryption (C++ core)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const nn::ModelError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const nn::compiler::CompileError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  py::class_<PyModel>(mod, "Model")
      .def("info", [](const PyModel& m) { return to_py(model_info(m.m)); })
      .def("describe", [](const PyModel& m) { return nn::describe(m.m); })
      .def("save", [](const PyModel& m, const std::string& path) { nn::write_model(m.m, path, nn::lossless_dtype(m.m)); })
      .def("set_meta", [](PyModel& m, const std::string& name, const std::string& dataset) {
        if (!name.empty()) m.m.meta.name = name;
        if (!dataset.empty()) m.m.meta.dataset = dataset;
      })
      // Plaintext reference scores (double precision) of `count` raw images.
      .def("forward_raw", [](const PyModel& m, const py::buffer& images) {
        const auto px = bytes_of(images, "images");
        const std::size_t per = m.m.input.shape.size();
        if (px.empty() || px.size() % per) throw std::invalid_argument("images: " + std::to_string(px.size()) + " bytes is not a whole number of " + std::to_string(per) + "-byte images");
        std::vector<std::vector<double>> out;
        for (std::size_t i = 0; i < px.size() / per; ++i)
          out.push_back(nn::forward(m.m, nn::prepare_input(m.m, std::span<const std::uint8_t>(px.data() + i * per, per))));
        return out;
      });

  mod.def("load_model", [](const std::string& path) { return PyModel{nn::read_model(path)}; });
  mod.def("import_onnx", [](const std::string& path, double scale, double offset) {
    return PyModel{nn::import_onnx(path, nn::InputSpec{{1, 1, 1}, scale, offset})};
  });
  mod.def("onnx_supported", &nn::onnx_supported);

  py::class_<PyPlan>(mod, "Plan")
      .def("report", [](const PyPlan& p) { return nn::compiler::cost_report(*p.prog); })
      .def("info", [](const PyPlan& p) { return to_py(plan_info(*p.prog)); })
      .def("save", [](const PyPlan& p, const std::string& path) { nn::compiler::write_plan(*p.prog, path); })
      .def_property_readonly("batch_capacity", [](const PyPlan& p) { return p.prog->batch_capacity(); })
      .def_property_readonly("input_size", [](const PyPlan& p) { return p.prog->input_shape.size(); });
  mod.def("load_plan", [](const std::string& path) {
    return PyPlan{std::make_shared<const nn::compiler::Program>(nn::compiler::read_plan(path))};
  });

  // compile(models, scheme, options...) -> Plan. dataset: training images for the BFV bit
  // search / CKKS calibration ("" = the first model's dataset; "none" = without them).
  mod.def(
      "compile",
      [](const std::vector<PyModel*>& models, const std::string& scheme, std::size_t batch, std::size_t poly_degree,
         double agreement_target, std::size_t calibrate, const std::vector<std::string>& combiners,
         const std::vector<double>& weights, const std::string& dataset, int input_bits, int weight_bits, int coeff_bits,
         const std::function<void(const std::string&)>& log) {
        if (models.empty()) throw std::invalid_argument("compile: give at least one model");
        std::vector<nn::Model> members;
        for (auto* m : models) members.push_back(m->m);
        nn::runtime::PlanRequest req;
        if (scheme == "bfv") req.scheme = nn::compiler::Scheme::bfv;
        else if (scheme == "ckks") req.scheme = nn::compiler::Scheme::ckks;
        else throw std::invalid_argument("scheme '" + scheme + "': use 'bfv' or 'ckks'");
        req.batch_images = batch;
        req.poly_degree = poly_degree;
        req.agreement_target = agreement_target;
        req.calibrate = calibrate;
        req.input_bits = input_bits, req.weight_bits = weight_bits, req.coeff_bits = coeff_bits;
        if (!combiners.empty()) {
          req.combiners.clear();
          for (const auto& c : combiners) req.combiners.push_back(nn::compiler::parse_combiner(c));
        }
        req.weights = weights;
        if (log) {
          req.log = [log](const std::string& line) {
            py::gil_scoped_acquire g;
            log(line);
          };
        }
        nn::Dataset train;
        if (dataset != "none") {
          const std::string ds = dataset.empty() ? members[0].meta.dataset : dataset;
          if (!ds.empty()) train = nn::runtime::load_training(members, req, ds);
        } else if (nn::runtime::training_need(members, req) == nn::runtime::TrainingNeed::required) {
          throw std::invalid_argument("dataset='none': this plan needs training images (CKKS calibration, or validation images for the poly-softmax, normalized and stacked combiners)");
        } else {
          req.agreement_target = 0;
        }
        py::gil_scoped_release release;
        auto prog = nn::runtime::make_plan(members, req, train.count() ? &train : nullptr);
        return PyPlan{std::make_shared<const nn::compiler::Program>(std::move(prog))};
      },
      py::arg("models"), py::arg("scheme") = "bfv", py::arg("batch") = 0, py::arg("poly_degree") = 0,
      py::arg("agreement_target") = 0.999, py::arg("calibrate") = 512, py::arg("combiners") = std::vector<std::string>{},
      py::arg("weights") = std::vector<double>{}, py::arg("dataset") = "", py::arg("input_bits") = 0,
      py::arg("weight_bits") = 0, py::arg("coeff_bits") = 0, py::arg("log") = nullptr);

  py::class_<PyKeys>(mod, "EvaluationKeys");
  py::class_<PyBatch>(mod, "EncryptedBatch")
      .def_property_readonly("images", [](const PyBatch& b) { return b.batch->images; });
  py::class_<PyResult>(mod, "EncryptedResult").def_property_readonly("images", [](const PyResult& r) { return r.result->images; });

  py::class_<PyClient>(mod, "Client")
      .def(py::init([](const PyPlan& plan) {
             auto c = std::make_unique<PyClient>();
             c->prog = plan.prog;
             c->prng = std::make_unique<math::SystemPrng>();
             py::gil_scoped_release release;
             c->client = std::make_unique<nn::runtime::Client>(*c->prog, *c->prng);
             return c;
           }),
           py::arg("plan"))
      .def("evaluation_keys", [](const PyClient& c) { return PyKeys{c.prog, c.client->evaluation_keys()}; })
      .def_property_readonly("batch_capacity", [](const PyClient& c) { return c.client->batch_capacity(); })
      .def("encrypt", [](const PyClient& c, const py::buffer& images) {
        const auto px = bytes_of(images, "images");
        const std::size_t per = c.prog->input_shape.size();
        if (px.empty() || px.size() % per)
          throw std::invalid_argument("images: " + std::to_string(px.size()) + " bytes is not a whole number of " + std::to_string(per) + "-byte images");
        const std::size_t count = px.size() / per;
        if (count > c.client->batch_capacity())
          throw std::invalid_argument("images: " + std::to_string(count) + " images, a batch holds " + std::to_string(c.client->batch_capacity()) +
                                      " (split them, or compile with a larger batch)");
        py::gil_scoped_release release;
        return PyBatch{c.prog, std::make_shared<nn::runtime::EncryptedBatch>(c.client->encrypt(px.data(), count))};
      })
      .def("serialize_input", [](const PyClient& c, const PyBatch& b) {
        auto objs = c.client->serialize_input(*b.batch);
        py::list residues;
        for (auto& r : objs) {
          py::list elems;
          for (auto& e : r) elems.append(py::bytes(reinterpret_cast<const char*>(e.data()), e.size()));
          residues.append(elems);
        }
        return residues;
      })
      .def("decrypt", [](const PyClient& c, const PyResult& r) {
        if (r.prog != c.prog) throw std::invalid_argument("decrypt: the result was computed for another plan");
        py::gil_scoped_release release;
        return c.client->decrypt(*r.result);
      });

  py::class_<PyServer>(mod, "Server")
      .def(py::init([](const PyPlan& plan, const PyKeys& keys) {
             if (keys.prog != plan.prog) throw std::invalid_argument("Server: the keys were made for another plan");
             auto s = std::make_unique<PyServer>();
             s->prog = plan.prog;
             s->server = std::make_unique<nn::runtime::Server>(*s->prog, keys.keys);
             return s;
           }),
           py::arg("plan"), py::arg("keys"))
      .def("evaluate", [](const PyServer& s, const PyBatch& b) {
        if (b.prog != s.prog) throw std::invalid_argument("evaluate: the batch was encrypted for another plan");
        py::gil_scoped_release release;
        nn::runtime::EncryptedBatch copy = *b.batch;
        return PyResult{s.prog, std::make_shared<nn::runtime::EncryptedResult>(s.server->evaluate(std::move(copy)))};
      });

#if HECNN_PY_SERVICE
  // The service client (hecnn client's gRPC session with a coordinator): the secret key stays
  // in this object; the coordinator and holders see public keys and ciphertexts only.
  mod.attr("service_supported") = true;
  py::class_<service::ServiceClient>(mod, "ServiceClient")
      .def(py::init([](const std::string& address, const std::string& token, const std::string& tls_ca, bool insecure_loopback,
                       double deadline_s) {
             service::ClientOptions o;
             o.address = address;
             o.token = token;
             o.tls_ca = tls_ca;
             o.insecure_loopback = insecure_loopback;
             o.deadline_s = deadline_s;
             return std::make_unique<service::ServiceClient>(o);
           }),
           py::arg("address"), py::arg("token") = "", py::arg("tls_ca") = "", py::arg("insecure_loopback") = false,
           py::arg("deadline_s") = 600.0)
      .def("open", [](service::ServiceClient& c, const std::string& scheme, std::size_t batch_images, const std::string& mode) {
             py::gil_scoped_release release;
             c.open(scheme, batch_images, mode);
           }, py::arg("scheme") = "bfv", py::arg("batch_images") = 0, py::arg("mode") = "batch")
      .def_property_readonly("input_size", &service::ServiceClient::input_size)
      .def_property_readonly("images_per_request", &service::ServiceClient::images_per_request)
      .def_property_readonly("members", &service::ServiceClient::members)
      .def_property_readonly("output_names", &service::ServiceClient::output_names)
      .def_property_readonly("description", &service::ServiceClient::description)
      .def_property_readonly("session_id", &service::ServiceClient::session_id)
      .def("infer", [](service::ServiceClient& c, const py::buffer& images) {
        const auto px = bytes_of(images, "images");
        const std::size_t per = c.input_size();
        if (px.empty() || px.size() % per)
          throw std::invalid_argument("images: " + std::to_string(px.size()) + " bytes is not a whole number of " + std::to_string(per) + "-byte images");
        py::gil_scoped_release release;
        return c.infer(px.data(), px.size() / per);
      })
      .def("close", &service::ServiceClient::close);
#else
  mod.attr("service_supported") = false;
#endif

  // MNIST-style conversion of an image file (PNG, JPEG, PGM): 784 bytes, row-major.
  mod.def("read_image", [](const std::string& path, const std::string& preprocess) {
    const std::string bytes = nn::read_file_bounded(path, std::size_t(256) << 20);
    if (preprocess == "none") {  // as it is, any size
      const nn::GrayImage img = nn::decode_image(bytes);
      return py::make_tuple(py::bytes(reinterpret_cast<const char*>(img.pixels.data()), img.pixels.size()), img.height, img.width);
    }
    const auto px = nn::image_to_input(bytes, nn::Shape{1, 28, 28}, preprocess);
    return py::make_tuple(py::bytes(reinterpret_cast<const char*>(px.data()), px.size()), 28, 28);
  }, py::arg("path"), py::arg("preprocess") = "auto");

  // Test images of a named dataset (mnist, fashion-mnist, ...): (bytes, labels, count, c, h, w).
  mod.def("load_dataset", [](const std::string& name, bool train, std::size_t offset, std::size_t count) {
    nn::Dataset ds = nn::load_named_dataset(name, train);
    if (offset >= ds.count()) throw std::invalid_argument("offset beyond the dataset");
    const std::size_t n = std::min(count ? count : ds.count(), ds.count() - offset);
    const std::size_t per = ds.image_size();
    return py::make_tuple(py::bytes(reinterpret_cast<const char*>(ds.image(offset)), n * per),
                          py::bytes(reinterpret_cast<const char*>(ds.labels.data() + offset), n), n, ds.channels, ds.rows, ds.cols);
  }, py::arg("name") = "mnist", py::arg("train") = false, py::arg("offset") = 0, py::arg("count") = 0);
}
