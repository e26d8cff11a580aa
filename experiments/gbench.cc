// Google Benchmark behind the C interface of experiments/gbench.h.
//
// Each C case becomes one registered benchmark with its own repetitions, min time and real
// time; a reporter of our own collects every repetition (GB's aggregates are skipped: the
// statistics are computed in C) and prints nothing. GB is initialised once with a made-up
// argv, so that none of the user's flags (or a stray --benchmark_filter) reaches it.
#include "experiments/gbench.h"

#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits.h>
#include <map>
#include <new>
#include <string>
#include <vector>

namespace {

// GB names of the user counters that carry PAPI's counts from the benchmark body to the
// reporter; a repetition's report then holds the counts of exactly the call it timed, even
// though GB calls the body several times in the first repetition while it sizes the loop.
const char kCycles[] = "sb_papi_cycles";
const char kInstructions[] = "sb_papi_instructions";

void copy_text(char *dst, size_t cap, const char *src)
{
    if (cap)
        snprintf(dst, cap, "%s", src);
}

struct Body {
    const sb_gb_case *c;
    sb_counters *ctr;

    void operator()(benchmark::State &st) const
    {
        char err[SB_GB_ERROR_MAX] = "";
        const benchmark::IterationCount k =
            c->batch_ops ? static_cast<benchmark::IterationCount>(c->batch_ops) : 1;
        if (c->prepare && c->prepare(c->ctx, err, sizeof err) != 0) {
            st.SkipWithError(err[0] ? err : "prepare failed");
            return; // GB's loop is not entered after an error; GB accepts that.
        }
        bool counting = ctr && sb_counters_available(ctr);
        uint64_t cycles = 0, instructions = 0;
        // Started before GB's first KeepRunningBatch starts its timer and stopped after the
        // last one stops it: both bracket the same loop, and GB's two clock reads are shared
        // out over the iterations like the loop test itself.
        if (counting)
            sb_counters_start(ctr);
        while (st.KeepRunningBatch(k)) {
            if (c->batch(c->ctx, static_cast<uint64_t>(k), err, sizeof err) != 0) {
                st.SkipWithError(err[0] ? err : "operation failed");
                break;
            }
        }
        if (counting) {
            sb_counters_stop(ctr, &cycles, &instructions);
            counting = sb_counters_available(ctr); // a failed stop turns them off
        }
        if (counting && !st.error_occurred()) {
            // Plain counters (kDefaults): GB reports the value as set; we divide ourselves.
            st.counters[kCycles] = benchmark::Counter(static_cast<double>(cycles));
            st.counters[kInstructions] = benchmark::Counter(static_cast<double>(instructions));
        }
    }
};

class Collector : public benchmark::BenchmarkReporter {
public:
    Collector(const std::map<std::string, size_t> &index, const sb_gb_options *opt,
              sb_gb_result *out, std::vector<char> &seen)
        : index_(index), opt_(opt), out_(out), seen_(seen)
    {
    }

    bool ReportContext(const Context &) override { return true; }

    void ReportRuns(const std::vector<Run> &runs) override
    {
        std::vector<size_t> touched;
        for (const Run &run : runs) {
            if (run.run_type != Run::RT_Iteration)
                continue;
            auto it = index_.find(run.run_name.function_name);
            if (it == index_.end())
                continue;
            size_t i = it->second;
            sb_gb_result *r = &out_[i];
            if (touched.empty() || touched.back() != i)
                touched.push_back(i);
            if (run.error_occurred) {
                if (!r->failed)
                    copy_text(r->error, sizeof r->error, run.error_message.c_str());
                r->failed = 1;
                continue;
            }
            if (r->n_reps >= opt_->repetitions || run.iterations <= 0)
                continue;
            double iters = static_cast<double>(run.iterations);
            sb_gb_rep *rep = &r->reps[r->n_reps++];
            rep->iterations = static_cast<uint64_t>(run.iterations);
            rep->real_ns_per_op = run.real_accumulated_time * 1e9 / iters;
            rep->cpu_ns_per_op = run.cpu_accumulated_time * 1e9 / iters;
            auto cyc = run.counters.find(kCycles), ins = run.counters.find(kInstructions);
            if (cyc != run.counters.end() && ins != run.counters.end()) {
                rep->cycles_per_op = cyc->second.value / iters;
                rep->instructions_per_op = ins->second.value / iters;
            } else {
                rep->cycles_per_op = NAN;
                rep->instructions_per_op = NAN;
            }
        }
        for (size_t i : touched) {
            sb_gb_result *r = &out_[i];
            r->counted = r->n_reps > 0;
            for (unsigned k = 0; k < r->n_reps; k++)
                if (std::isnan(r->reps[k].cycles_per_op))
                    r->counted = 0;
            seen_[i] = 1;
            if (opt_->done)
                opt_->done(i, r, opt_->arg);
        }
    }

private:
    const std::map<std::string, size_t> &index_;
    const sb_gb_options *opt_;
    sb_gb_result *out_;
    std::vector<char> &seen_;
};

void initialize_once()
{
    // Only the program name: GB parses and strips its --benchmark_* flags from argv, and it
    // must see none of ours. A local static runs this once, thread-safely.
    static const bool initialized = [] {
        static char prog[] = "sealbench-micro";
        static char *argv[] = {prog, nullptr};
        int argc = 1;
        benchmark::Initialize(&argc, argv);
        return true;
    }();
    (void)initialized;
}

void run_all(const sb_gb_case *cases, size_t n, const sb_gb_options *opt, sb_gb_result *out)
{
    initialize_once();
    benchmark::ClearRegisteredBenchmarks();
    std::map<std::string, size_t> index;
    std::vector<char> seen(n, 0);
    for (size_t i = 0; i < n; i++) {
        // The index makes the GB name unique whatever the caller's names are.
        std::string name = std::to_string(i) + ":" + cases[i].name;
        index[name] = i;
        benchmark::RegisterBenchmark(name.c_str(), Body{&cases[i], opt->counters})
            ->Repetitions(static_cast<int>(opt->repetitions))
            ->ReportAggregatesOnly(false)
            ->MinTime(opt->min_time_s)
            ->UseRealTime()
            ->Unit(benchmark::kNanosecond);
    }
    Collector collector(index, opt, out, seen);
    // "." matches every name; an explicit spec keeps any earlier filter setting out.
    benchmark::RunSpecifiedBenchmarks(&collector, std::string("."));
    benchmark::ClearRegisteredBenchmarks();
    for (size_t i = 0; i < n; i++)
        if (!seen[i]) {
            out[i].failed = 1;
            copy_text(out[i].error, sizeof out[i].error, "Google Benchmark reported nothing for this case");
        }
}

} // namespace

extern "C" int sb_gb_run(const sb_gb_case *cases, size_t n, const sb_gb_options *opt,
                         sb_gb_result *out, char *err, size_t err_cap)
{
    for (size_t i = 0; i < n; i++)
        out[i] = sb_gb_result{};
    if (!opt || opt->repetitions < 1 || opt->repetitions > INT_MAX || !(opt->min_time_s > 0)) {
        copy_text(err, err_cap, "Google Benchmark: repetitions must be >= 1 and min time > 0");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        out[i].reps = static_cast<sb_gb_rep *>(calloc(opt->repetitions, sizeof(sb_gb_rep)));
        if (!out[i].reps) {
            copy_text(err, err_cap, "Google Benchmark: out of memory");
            for (size_t j = 0; j <= i; j++)
                sb_gb_result_free(&out[j]);
            return -1;
        }
    }
    try {
        run_all(cases, n, opt, out);
        return 0;
    } catch (const std::bad_alloc &) {
        copy_text(err, err_cap, "Google Benchmark: out of memory");
    } catch (const std::exception &e) {
        snprintf(err, err_cap, "Google Benchmark: %s", e.what());
    } catch (...) {
        copy_text(err, err_cap, "Google Benchmark: unknown C++ exception");
    }
    try {
        benchmark::ClearRegisteredBenchmarks();
    } catch (...) {
    }
    return -1;
}

extern "C" void sb_gb_result_free(sb_gb_result *r)
{
    if (!r)
        return;
    free(r->reps);
    r->reps = nullptr;
    r->n_reps = 0;
}

extern "C" const char *sb_gb_timer(void)
{
    // The same choice GB makes for its real-time clock (src/timers.h): the high-resolution
    // clock if it is steady, else steady_clock. libstdc++'s high_resolution_clock is the
    // (unsteady) system clock, and its steady_clock reads CLOCK_MONOTONIC.
    return std::chrono::high_resolution_clock::is_steady
               ? "Google Benchmark real time: std::chrono::high_resolution_clock (steady)"
               : "Google Benchmark real time: std::chrono::steady_clock (CLOCK_MONOTONIC)";
}

static std::string find_version()
{
    // The shared object's real name carries the version (libbenchmark.so.1.7.1); GB 1.7 has
    // no version call of its own.
    Dl_info info;
    void (*probe)(int *, char **, void (*)()) = benchmark::Initialize;
    char real[PATH_MAX];
    if (dladdr(reinterpret_cast<void *>(probe), &info) && info.dli_fname &&
        realpath(info.dli_fname, real)) {
        const char *so = strstr(real, ".so.");
        if (so && strstr(real, "benchmark"))
            return std::string(so + 4);
    }
    return "unknown";
}

extern "C" const char *sb_gb_version(void)
{
    try {
        static const std::string version = find_version();
        return version.c_str();
    } catch (...) {
        return "unknown";
    }
}
