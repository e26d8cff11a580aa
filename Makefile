# sealbench build. `make` builds build/native/sealbench; `make test` runs the suite (installing
# missing Debian packages first unless NO_DEPS=1); `make test SANITIZE=1` runs it under ASan and
# UBSan in build/sanitize/; `make rpi` and `make rpi-test` are the Raspberry Pi cross builds
# under qemu-user (rpi/rpi.mk). Quiet by default; `make V=1` prints the commands.

CC ?= cc
CXX ?= c++
CFLAGS ?= -O2 -g
CXXFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config
BUILD ?= native

ifeq ($(SANITIZE),1)
BUILD := sanitize
CFLAGS := -O1 -g -fno-omit-frame-pointer
CXXFLAGS := -O1 -g -fno-omit-frame-pointer
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif

# Raspberry Pi cross builds (make rpi, make rpi-test; BUILD=aarch64 or armhf selects the cross
# compiler and the target's libraries): before BUILD_DIR and the flags, which it sets.
include rpi/rpi.mk

BUILD_DIR := build/$(BUILD)
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -I. -MMD -MP -D_GNU_SOURCE
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SAN_FLAGS)
# C++ only where a library is C++ (Google Benchmark, behind experiments/gbench.h's C API).
ALL_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter $(CXXFLAGS) $(SAN_FLAGS)

# The cipher backends, one line each in ciphers/backends.txt (read by scripts/install-deps.sh and
# rpi/deploy.sh too). BACKENDS="openssl sodium" compiles and links only those (default: every
# one); a backend left out stays known to `sealbench list`, as not built.
comma := ,
BACKENDS_FILE := ciphers/backends.txt
backend_rows := $(shell awk '!/^\#/ && NF { print $$1 "|" $$2 }' $(BACKENDS_FILE))
BACKENDS_KNOWN := $(foreach r,$(backend_rows),$(word 1,$(subst |, ,$(r))))
BACKENDS ?= $(BACKENDS_KNOWN)
override BACKENDS := $(strip $(BACKENDS))
ifeq ($(BACKENDS),)
$(error BACKENDS is empty: name at least one of $(BACKENDS_KNOWN) (ciphers/backends.txt))
endif
ifneq ($(filter-out $(BACKENDS_KNOWN),$(BACKENDS)),)
$(error BACKENDS: unknown $(filter-out $(BACKENDS_KNOWN),$(BACKENDS)); known: $(BACKENDS_KNOWN) (ciphers/backends.txt))
endif
backend_link = $(subst $(comma), ,$(word 2,$(subst |, ,$(filter $(1)|%,$(backend_rows)))))
BACKEND_LINK := $(foreach b,$(BACKENDS),$(call backend_link,$(b)))

# Libraries come from pkg-config where Debian ships a .pc file; mbedTLS 2.28 ships none.
PKGS := $(patsubst pkg:%,%,$(filter pkg:%,$(BACKEND_LINK))) jansson libcbor inih benchmark papi
# Paho and libcsv ship no .pc file either; Paho's TLS build (3as) serves tcp:// and ssl:// alike
# (it loads libssl and libcrypto itself, whether or not the OpenSSL backend is built).
LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) $(filter-out pkg:%,$(BACKEND_LINK)) -lpaho-mqtt3as -lcsv -lpthread -lm
CPPFLAGS += $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

# Every ciphers/*.c but the backends left out of BACKENDS.
LIB_SRCS := $(filter-out $(patsubst %,ciphers/%.c,$(filter-out $(BACKENDS),$(BACKENDS_KNOWN))), \
	$(wildcard common/*.c ciphers/*.c protocol/*.c transport/*.c datasets/*.c roles/*.c experiments/*.c))
LIB_CXX_SRCS := $(wildcard experiments/*.cc)
CLI_SRCS := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_SUPPORT := $(BUILD_DIR)/obj/tests/support.o

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD_DIR)/obj/%.o) $(LIB_CXX_SRCS:%.cc=$(BUILD_DIR)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD_DIR)/obj/%.o)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD_DIR)/tests/%)
# overhead compares the OpenSSL backend with bare EVP calls: only where that backend is built.
BENCH_BINS := $(if $(filter openssl,$(BACKENDS)),$(BUILD_DIR)/bench/overhead) $(BUILD_DIR)/bench/mqtt_plain $(BUILD_DIR)/bench/dataset_load
BIN := $(BUILD_DIR)/sealbench

# Rebuild everything when the flags change (Redis does the same with .make-settings).
FLAGS_FILE := $(BUILD_DIR)/.flags
FLAGS_NOW := $(CC) $(CXX) $(ALL_CFLAGS) $(ALL_CXXFLAGS) $(CPPFLAGS) $(LDFLAGS) $(LIBS)
$(shell mkdir -p $(BUILD_DIR); [ "$$(cat $(FLAGS_FILE) 2>/dev/null)" = "$(FLAGS_NOW)" ] || echo "$(FLAGS_NOW)" > $(FLAGS_FILE))

.PHONY: all test deps bench bench-mqtt bench-datasets bench-micro clean experiments analyze compare paper
# Keep test and bench objects: they are intermediates of pattern rules, which make would delete.
.SECONDARY:
all: $(BIN)

$(BUILD_DIR)/obj/%.o: %.c $(FLAGS_FILE)
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c $< -o $@

$(BUILD_DIR)/obj/%.o: %.cc $(FLAGS_FILE)
	$(call msg,CXX,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(CPPFLAGS) -c $< -o $@

# What a result's manifest says about the build that produced it: only experiments/manifest.c
# sees it, and only it is rebuilt when the checkout's description changes.
BUILD_INFO := $(BUILD_DIR)/gen/build_info.h
BUILD_INFO_NOW := \#define SB_GIT_DESCRIBE "$(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)"\n\#define SB_BUILD_CC "$(shell $(CC) --version 2>/dev/null | head -1)"\n\#define SB_BUILD_CFLAGS "$(ALL_CFLAGS)"\n
$(shell mkdir -p $(BUILD_DIR)/gen; [ "$$(printf '$(BUILD_INFO_NOW)')" = "$$(cat $(BUILD_INFO) 2>/dev/null)" ] || printf '$(BUILD_INFO_NOW)' > $(BUILD_INFO))
$(BUILD_DIR)/obj/experiments/manifest.o: $(BUILD_INFO)
$(BUILD_DIR)/obj/experiments/manifest.o: CPPFLAGS += -I$(BUILD_DIR)/gen

# The C registry's list of backends (ciphers/registry.c), made from ciphers/backends.txt and
# BACKENDS: every known backend, each marked built or not. Written only when it changes, and
# with no scratch file, so that a make with nothing to do leaves the build folder as it was.
BACKENDS_H := $(BUILD_DIR)/gen/sb_backends.h
$(shell mkdir -p $(BUILD_DIR)/gen; h=$$(awk -v built=" $(BACKENDS) " -v list="$(BACKENDS)" -f ciphers/backends.awk $(BACKENDS_FILE)); [ "$$h" = "$$(cat $(BACKENDS_H) 2>/dev/null)" ] || printf '%s\n' "$$h" >$(BACKENDS_H))
$(BUILD_DIR)/obj/ciphers/registry.o: $(BACKENDS_H)
$(BUILD_DIR)/obj/ciphers/registry.o: CPPFLAGS += -I$(BUILD_DIR)/gen

$(BUILD_DIR)/libsealbench.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BIN): $(CLI_OBJS) $(BUILD_DIR)/libsealbench.a
	$(call msg,LINK,$@)
	$(Q)$(CXX) $(SAN_FLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(BUILD_DIR)/tests/%: $(BUILD_DIR)/obj/tests/%.o $(TEST_SUPPORT) $(BUILD_DIR)/libsealbench.a
	$(call msg,LINK,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(SAN_FLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(BUILD_DIR)/bench/%: $(BUILD_DIR)/obj/tests/bench/%.o $(BUILD_DIR)/libsealbench.a
	$(call msg,LINK,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(SAN_FLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# Installs what a job is missing (scripts/install-deps.sh JOB: each target asks only for what it
# uses, so `make experiments` installs no LaTeX, Chromium or Ansible). NO_DEPS=1 skips it.
deps: deps-all
# The backends' -dev packages are those of BACKENDS. With NO_DEPS=1 the rule still needs a recipe:
# a pattern rule without one cancels itself, and `make test NO_DEPS=1` found no rule for deps-test.
deps-%:
ifneq ($(NO_DEPS),1)
	@export BACKENDS="$(BACKENDS)"; scripts/install-deps.sh --check-only $* >/dev/null 2>&1 || scripts/install-deps.sh $*
else
	@:
endif

test: deps-test
	@$(MAKE) --no-print-directory $(BIN) $(TEST_BINS)
	@BUILD_DIR=$(BUILD_DIR) ASAN_OPTIONS=suppressions=$(CURDIR)/tests/asan.supp tests/run.sh

bench: deps-bench
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_BINS)

# Messages/s through the private broker against a mosquitto_pub/mosquitto_sub baseline, and the
# 1000-device handshake storm (raw rows in results/bench/mqtt_*.csv).
bench-mqtt: deps-bench
	@$(MAKE) --no-print-directory $(BIN) $(BUILD_DIR)/bench/mqtt_plain
	@tests/bench/mqtt.sh $(BIN) results/bench

# Dataset loader throughput and peak memory on a 100 MB generated file; payload bytes per
# record for each encoding on the shipped dataset (rows in results/bench/dataset_*).
bench-datasets: deps-bench
	@$(MAKE) --no-print-directory $(BIN) $(BUILD_DIR)/bench/dataset_load
	@tests/bench/datasets.sh $(BIN) results/bench

# Our OpenSSL microbenchmarks against `openssl speed -aead`, and the CV of repetitions (rows in
# results/bench/micro_*.csv).
bench-micro: deps-bench
	@$(MAKE) --no-print-directory $(BIN)
	@tests/bench/micro_openssl.sh $(BIN) results/bench

# The experiments: `make experiments` runs experiments/configs/paper.ini (every table and figure)
# on the private broker and the shipped dataset into results/<name>-<time>/, then analyses it
# (tables, figures, report.html; analysis/README.md); CONFIG=, BROKER= (an external broker URI)
# and OUT= (the run folder) for other studies; RESUME=results/<run> to complete an interrupted run.
# OUT is the run folder only: the build is always in BUILD_DIR (build/native), a name that no
# README variable shares (they were once both OUT, and `make experiments` ran into the build).
CONFIG ?= experiments/configs/paper.ini
PY := /usr/bin/python3
experiments: deps-experiments
	@$(MAKE) --no-print-directory $(BIN)
	@scripts/experiments.sh $(BIN) $(CONFIG) "$(OUT)" "$(RESUME)" "$(BROKER)"

# Tables, figures and report.html of a run (WITH= another machine's run for the platform table).
# A run made before manifests recorded `sealbench list --csv` (offer.csv) is analysed with this
# checkout's binary's list: analyze, compare and paper build it first.
analyze: deps-experiments
	@test -n "$(RUN)" || { echo "make analyze RUN=results/<run> [WITH=results/<other run>]"; exit 2; }
	@$(MAKE) --no-print-directory $(BIN)
	@$(PY) analysis/analyze.py $(RUN) $(foreach w,$(WITH),--with $(w))

# A run against the committed reference of its machine kind, cell by cell (REF= another one).
compare: deps-experiments
	@test -n "$(RUN)" || { echo "make compare RUN=results/<run> [REF=results/reference/<arch>]"; exit 2; }
	@$(MAKE) --no-print-directory $(BIN)
	@$(PY) analysis/compare.py $(RUN) $(if $(REF),--reference $(REF))

# The paper: the analysis of the reference run (and the emulated aarch64 one, when present)
# into paper/generated/, then latexmk into paper/build/paper.pdf. RUN= builds it from another run.
PAPER_RUN ?= $(or $(RUN),results/reference/x86_64)
PAPER_WITH ?= $(wildcard results/reference/aarch64-emulated)
paper: deps-paper deps-build
	@$(MAKE) --no-print-directory $(BIN)
	@rm -rf paper/generated
	@$(PY) analysis/analyze.py $(PAPER_RUN) $(foreach w,$(PAPER_WITH),--with $(w)) --out paper/generated --no-report
	@cd paper && latexmk -pdf -interaction=nonstopmode -halt-on-error -quiet paper.tex
	@echo "paper: paper/build/paper.pdf (from $(PAPER_RUN))"

clean:
	rm -rf build

-include $(shell find $(BUILD_DIR)/obj -name '*.d' 2>/dev/null)
