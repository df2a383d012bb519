// Shared plumbing of the two reference loops: command line, pinning, clock, input values,
// statistics and the JSON line they print. Nothing here touches a runtime.
#pragma once

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace refloop {

[[noreturn]] inline void Die(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::exit(1);
}

struct Args {
  std::string lib;
  std::string model;
  int cpu = -1;            // -1: do not pin
  long iterations = 10000; // timed runs
  long warmup = 200;       // untimed runs before them
  std::string samplesOut;  // optional: every sample, one per line, in run order
  std::string inputs;      // optional: raw float32 samples, one after another, cycled in order
};

inline long ParseLong(const char* flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') Die(std::string("bad number for ") + flag + ": " + text);
  return value;
}

inline Args ParseArgs(int argc, char** argv, const char* usage) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("%s\n", usage);
      std::exit(0);
    }
    if (i + 1 >= argc) Die("missing value after " + flag + "\n" + usage);
    const char* value = argv[++i];
    if (flag == "--lib") args.lib = value;
    else if (flag == "--model") args.model = value;
    else if (flag == "--cpu") args.cpu = static_cast<int>(ParseLong("--cpu", value));
    else if (flag == "--iterations") args.iterations = ParseLong("--iterations", value);
    else if (flag == "--warmup") args.warmup = ParseLong("--warmup", value);
    else if (flag == "--samples-out") args.samplesOut = value;
    else if (flag == "--inputs") args.inputs = value;
    else Die("unknown flag " + flag + "\n" + usage);
  }
  if (args.lib.empty() || args.model.empty()) Die(std::string("--lib and --model are required\n") + usage);
  if (args.iterations < 1) Die("--iterations must be at least 1");
  if (args.warmup < 0) Die("--warmup must be at least 0");
  return args;
}

// Pins the calling thread (the only thread that calls the runtime) to one CPU.
inline void PinTo(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0) Die("pthread_setaffinity_np(CPU " + std::to_string(cpu) + "): " + std::strerror(rc));
}

inline int64_t MonoRawNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// The input every path of the bench uses: x[i] = float32(sin(i * 0.37)).
inline void FillInput(float* data, size_t count) {
  for (size_t i = 0; i < count; ++i) data[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.37));
}

// The input samples: from --inputs (N × elements float32, one sample after another), else one
// sample of sin values. Every sample has `elements` values.
inline std::vector<std::vector<float>> LoadInputs(const std::string& path, size_t elements) {
  if (path.empty()) {
    std::vector<std::vector<float>> one(1, std::vector<float>(elements));
    FillInput(one[0].data(), elements);
    return one;
  }
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Die("cannot read " + path);
  std::vector<float> all;
  float buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, sizeof(float), 4096, f)) > 0) all.insert(all.end(), buffer, buffer + n);
  std::fclose(f);
  if (all.empty() || all.size() % elements != 0) Die(path + " does not hold a whole number of samples of " + std::to_string(elements) + " floats");
  std::vector<std::vector<float>> samples(all.size() / elements);
  for (size_t s = 0; s < samples.size(); ++s) samples[s].assign(all.begin() + s * elements, all.begin() + (s + 1) * elements);
  return samples;
}

// FNV-1a over the input bytes, so the driver can check every path ran on identical bytes.
inline uint64_t Fnv1a64(const void* bytes, size_t size) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Resolves one symbol of a dlopen'ed library, typed by the header's own declaration.
template <typename Fn>
Fn Symbol(void* library, const char* name) {
  dlerror();
  void* address = dlsym(library, name);
  const char* error = dlerror();
  if (error != nullptr || address == nullptr) Die(std::string("dlsym ") + name + ": " + (error ? error : "null"));
  return reinterpret_cast<Fn>(address);
}

inline void* OpenLibrary(const std::string& path) {
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) Die("dlopen " + path + ": " + dlerror());
  return library;
}

inline std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') { out += '\\'; out += c; }
    else if (static_cast<unsigned char>(c) < 0x20) { char buf[8]; std::snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out += c;
  }
  return out + "\"";
}

// Nearest-rank percentile of ascending values: the smallest sample with at least p % at or below it.
inline int64_t NearestRank(const std::vector<int64_t>& sorted, double p) {
  const size_t n = sorted.size();
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  rank = std::min(n, std::max<size_t>(1, rank));
  return sorted[rank - 1];
}

struct Report {
  std::string runtime;
  std::string version;
  std::string lib;
  std::string model;
  int cpu = -1;
  int cpuAtEnd = -1;
  long warmup = 0;
  uint64_t inputHash = 0;
  size_t inputElements = 0;
  std::vector<float> output;  // first output tensor (first values)
};

inline void PrintResult(const Report& report, std::vector<int64_t> samples, const std::string& samplesOut) {
  if (!samplesOut.empty()) {
    FILE* f = std::fopen(samplesOut.c_str(), "w");
    if (f == nullptr) Die("cannot write " + samplesOut);
    for (int64_t s : samples) std::fprintf(f, "%lld\n", static_cast<long long>(s));
    std::fclose(f);
  }
  long double sum = 0;
  for (int64_t s : samples) sum += s;
  const double mean = static_cast<double>(sum / samples.size());
  std::sort(samples.begin(), samples.end());
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(report.inputHash));
  std::string outputs = "[";
  for (size_t i = 0; i < report.output.size(); ++i) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", static_cast<double>(report.output[i]));
    outputs += buf;
  }
  outputs += "]";
  std::printf(
      "{\"p50Ns\":%lld,\"p99Ns\":%lld,\"meanNs\":%.1f,\"count\":%zu,\"minNs\":%lld,\"p90Ns\":%lld,\"maxNs\":%lld,"
      "\"runtime\":%s,\"version\":%s,\"library\":%s,\"model\":%s,\"cpu\":%d,\"cpuAtEnd\":%d,\"warmup\":%ld,"
      "\"clock\":\"CLOCK_MONOTONIC_RAW\",\"inputElements\":%zu,\"inputFnv1a64\":\"%s\",\"output\":%s}\n",
      static_cast<long long>(NearestRank(samples, 50)), static_cast<long long>(NearestRank(samples, 99)), mean,
      samples.size(), static_cast<long long>(samples.front()), static_cast<long long>(NearestRank(samples, 90)),
      static_cast<long long>(samples.back()), JsonString(report.runtime).c_str(), JsonString(report.version).c_str(),
      JsonString(report.lib).c_str(), JsonString(report.model).c_str(), report.cpu, report.cpuAtEnd, report.warmup,
      report.inputElements, hash, outputs.c_str());
}

}  // namespace refloop
