# sealbench in a container: Debian 12 and the same install script as CI (.ci/run), so the image
# and a CI machine hold the same libraries.
#
#   docker build -t sealbench .                       # installs, builds, runs the tests
#   docker build --build-arg TESTS=0 -t sealbench .   # the same without the tests (faster)
#   docker run --rm -v "$PWD/results:/sealbench/results" sealbench
#       runs experiments/configs/quick.ini (about a minute) into ./results/quick-<UTC time>/
#   docker run --rm -v "$PWD/results:/sealbench/results" sealbench make experiments
#       the paper's run (experiments/configs/paper.ini); CONFIG=, BROKER=, OUT= as in README.md
#   docker run --rm sealbench make test               # the tests again, in a fresh container
#
# Numbers measured in a container are the host's CPU behind Docker's network namespace and
# overlay file system: the private broker is on the container's loopback, so MQTT latency is
# comparable, but say "in Docker" when you report them. PAPI counters need
# --cap-add PERFMON (or --privileged) and a host perf_event_paranoid of 2 or less; without them
# the counters columns say why they are empty.
FROM debian:12

ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
WORKDIR /sealbench

# Dependencies first, from the install script and the backends' list (whose -dev packages it
# installs) alone, so that editing the sources does not invalidate this (long) layer of the
# build cache.
COPY scripts/install-deps.sh scripts/install-deps.sh
COPY ciphers/backends.txt ciphers/backends.txt
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*

COPY . .
# A fresh build: a build/ folder from the host must not pass for this image's.
RUN make clean && make -j"$(nproc)"

# The tests at build time, so that an image that exists has passed them (they start the private
# Mosquitto on the container's loopback, which a build step has). TESTS=0 skips them; the
# image then still runs them with `docker run --rm sealbench make test`.
ARG TESTS=1
RUN if [ "$TESTS" = 1 ]; then NO_DEPS=1 make test; else echo "tests skipped (TESTS=$TESTS)"; fi

# Results go to the mounted folder: docker run -v "$PWD/results:/sealbench/results" sealbench
VOLUME /sealbench/results
CMD ["make", "experiments", "CONFIG=experiments/configs/quick.ini"]
