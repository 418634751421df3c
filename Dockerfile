# The long-lived harness for Railway or any container host. SCHEDULER_BACKEND=railway adds the
# /health endpoint on $PORT.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p local-harness -p odds-cli

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/local-harness /usr/local/bin/local-harness
COPY --from=build /src/target/release/odds /usr/local/bin/odds
ENV SCHEDULER_BACKEND=railway \
    LOG_FORMAT=json
USER nobody
CMD ["local-harness", "run"]
