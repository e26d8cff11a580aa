# sealbench in a container: the same Debian release and the same install script as CI, so the
# image and a CI machine hold the same libraries. Build: docker build -t sealbench .
# Run:   docker run --rm sealbench make test      (or: make experiments)
FROM debian:12
WORKDIR /sealbench
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN apt-get update -qq && scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make -j"$(nproc)"
CMD ["make", "experiments"]
