// Configuration decoders (see convert.h).
#include "convert.h"

#include <pybind11/stl.h>

#include <cmath>
#include <initializer_list>

namespace fastnn_py {

using namespace fastnn;

namespace {

template <typename E, size_t N>
E kind_of(const py::handle& v, const char* const (&)[N], const char* what) {
  return checked_kind<E>(v, N, what);
}

// A spec as named fields: a dict as it is, a tuple mapped onto `fields` in order.
py::dict named(const py::handle& spec, std::initializer_list<const char*> fields,
               const char* what) {
  if (py::isinstance<py::dict>(spec)) return py::reinterpret_borrow<py::dict>(spec);
  if (!py::isinstance<py::tuple>(spec) && !py::isinstance<py::list>(spec))
    throw ValueError(std::string(what) + ": expected a dict or a tuple");
  py::sequence seq = py::reinterpret_borrow<py::sequence>(spec);
  if (seq.size() != fields.size()) {
    std::string names;
    for (const char* f : fields) names += std::string(names.empty() ? "" : ", ") + f;
    throw ValueError(std::string(what) + " spec must be (" + names + ")");
  }
  py::dict d;
  size_t i = 0;
  for (const char* f : fields) d[f] = seq[i++];
  return d;
}

bool has(const py::dict& d, const char* k) { return d.contains(k) && !d[k].is_none(); }

template <typename V>
V get_or(const py::dict& d, const char* k, V dflt) {
  return has(d, k) ? d[k].cast<V>() : dflt;
}

}  // namespace

Activation to_activation(const py::handle& spec) {
  py::dict d = named(spec, {"kind", "alpha", "max_value", "threshold"}, "activation");
  Activation a;
  if (has(d, "kind")) a.kind = kind_of<ActKind>(d["kind"], kActivationNames, "activation kind");
  a.alpha = get_or<double>(d, "alpha", a.alpha);
  a.max_value = get_or<double>(d, "max_value", a.max_value);
  a.threshold = get_or<double>(d, "threshold", a.threshold);
  return a;
}

Initializer to_initializer(const py::handle& spec, uint64_t* seed) {
  py::dict d = named(spec, {"kind", "a", "b", "mode", "distribution", "seed"}, "initializer");
  Initializer i;
  if (has(d, "kind")) i.kind = kind_of<InitKind>(d["kind"], kInitializerNames, "initializer kind");
  i.a = get_or<double>(d, "a", i.a);
  i.b = get_or<double>(d, "b", i.b);
  if (has(d, "mode")) i.mode = kind_of<FanMode>(d["mode"], kFanModeNames, "initializer mode");
  if (has(d, "distribution"))
    i.distribution =
        kind_of<Distribution>(d["distribution"], kDistributionNames, "initializer distribution");
  *seed = get_or<uint64_t>(d, "seed", 0);
  return i;
}

Loss to_loss(const py::handle& spec) {
  py::dict d = named(spec, {"kind", "from_logits", "label_smoothing", "delta"}, "loss");
  Loss l;
  if (has(d, "kind")) l.kind = kind_of<LossKind>(d["kind"], kLossNames, "loss kind");
  l.from_logits = get_or<bool>(d, "from_logits", l.from_logits);
  l.label_smoothing = get_or<double>(d, "label_smoothing", l.label_smoothing);
  l.delta = get_or<double>(d, "delta", l.delta);
  return l;
}

Schedule to_schedule(const py::dict& d) {
  Schedule s;
  if (has(d, "kind")) s.kind = kind_of<ScheduleKind>(d["kind"], kScheduleNames, "schedule kind");
  s.initial = get_or<double>(d, "initial", s.initial);
  s.decay_steps = get_or<double>(d, "decay_steps", s.decay_steps);
  s.decay_rate = get_or<double>(d, "decay_rate", s.decay_rate);
  s.staircase = get_or<bool>(d, "staircase", s.staircase);
  s.end = get_or<double>(d, "end", s.end);
  s.power = get_or<double>(d, "power", s.power);
  s.cycle = get_or<bool>(d, "cycle", s.cycle);
  s.alpha = get_or<double>(d, "alpha", s.alpha);
  s.warmup_target = get_or<double>(d, "warmup_target", s.warmup_target);
  s.warmup_steps = get_or<double>(d, "warmup_steps", s.warmup_steps);
  s.t_mul = get_or<double>(d, "t_mul", s.t_mul);
  s.m_mul = get_or<double>(d, "m_mul", s.m_mul);
  s.boundaries = get_or<std::vector<double>>(d, "boundaries", s.boundaries);
  s.values = get_or<std::vector<double>>(d, "values", s.values);
  if (s.kind == ScheduleKind::PiecewiseConstantDecay && s.values.size() != s.boundaries.size() + 1)
    throw ValueError("PiecewiseConstantDecay: values must have one more entry than boundaries");
  if (s.decay_steps <= 0) throw ValueError("decay_steps must be positive");
  return s;
}

OptimizerConfig to_optimizer(const py::dict& d) {
  OptimizerConfig c;
  if (has(d, "kind")) c.kind = kind_of<OptKind>(d["kind"], kOptimizerNames, "optimizer kind");
  if (!has(d, "schedule")) throw ValueError("optimizer config: missing 'schedule'");
  c.lr = to_schedule(d["schedule"].cast<py::dict>());
  c.beta_1 = get_or<double>(d, "beta_1", c.beta_1);
  c.beta_2 = get_or<double>(d, "beta_2", c.beta_2);
  c.epsilon = get_or<double>(d, "epsilon", c.epsilon);
  c.amsgrad = get_or<bool>(d, "amsgrad", c.amsgrad);
  c.sklearn_moments = get_or<bool>(d, "sklearn_moments", c.sklearn_moments);
  c.momentum = get_or<double>(d, "momentum", c.momentum);
  c.nesterov = get_or<bool>(d, "nesterov", c.nesterov);
  c.rho = get_or<double>(d, "rho", c.rho);
  c.centered = get_or<bool>(d, "centered", c.centered);
  c.initial_accumulator_value =
      get_or<double>(d, "initial_accumulator_value", c.initial_accumulator_value);
  c.weight_decay = get_or<double>(d, "weight_decay", c.weight_decay);
  c.clipnorm = get_or<double>(d, "clipnorm", c.clipnorm);
  c.clipvalue = get_or<double>(d, "clipvalue", c.clipvalue);
  c.global_clipnorm = get_or<double>(d, "global_clipnorm", c.global_clipnorm);
  return c;
}

py::dict defaults() {
  py::dict out;
  const Activation a;
  out["activation"] =
      py::dict(py::arg("kind") = int(a.kind), py::arg("alpha") = a.alpha,
               py::arg("max_value") = a.max_value, py::arg("threshold") = a.threshold);
  const Initializer i;
  out["initializer"] = py::dict(py::arg("kind") = int(i.kind), py::arg("a") = i.a,
                                py::arg("b") = i.b, py::arg("mode") = int(i.mode),
                                py::arg("distribution") = int(i.distribution), py::arg("seed") = 0);
  const Loss l;
  out["loss"] =
      py::dict(py::arg("kind") = int(l.kind), py::arg("from_logits") = l.from_logits,
               py::arg("label_smoothing") = l.label_smoothing, py::arg("delta") = l.delta);
  const Schedule s;
  out["schedule"] =
      py::dict(py::arg("kind") = int(s.kind), py::arg("initial") = s.initial,
               py::arg("decay_steps") = s.decay_steps, py::arg("decay_rate") = s.decay_rate,
               py::arg("staircase") = s.staircase, py::arg("end") = s.end,
               py::arg("power") = s.power, py::arg("cycle") = s.cycle, py::arg("alpha") = s.alpha,
               py::arg("warmup_target") = s.warmup_target, py::arg("warmup_steps") = s.warmup_steps,
               py::arg("t_mul") = s.t_mul, py::arg("m_mul") = s.m_mul);
  const OptimizerConfig c;
  out["optimizer"] = py::dict(
      py::arg("kind") = int(c.kind), py::arg("beta_1") = c.beta_1, py::arg("beta_2") = c.beta_2,
      py::arg("epsilon") = c.epsilon, py::arg("amsgrad") = c.amsgrad,
      py::arg("sklearn_moments") = c.sklearn_moments,
      py::arg("momentum") = c.momentum, py::arg("nesterov") = c.nesterov, py::arg("rho") = c.rho,
      py::arg("centered") = c.centered,
      py::arg("initial_accumulator_value") = c.initial_accumulator_value,
      py::arg("weight_decay") = c.weight_decay, py::arg("clipnorm") = c.clipnorm,
      py::arg("clipvalue") = c.clipvalue, py::arg("global_clipnorm") = c.global_clipnorm);
  return out;
}

}  // namespace fastnn_py
