# Build: docker build -t beskplan .   Run: docker run -p 8080:8080 -v beskplan-data:/data beskplan
FROM rust:1-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data beskplan && mkdir -p /data && chown beskplan /data
COPY --from=build /src/target/release/beskplan /usr/local/bin/beskplan
USER beskplan
WORKDIR /data
ENV BESKPLAN_BIND=0.0.0.0:8080 DATABASE_URL=/data/beskplan.sqlite3
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["beskplan"]
