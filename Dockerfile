# assay: a static binary on a distroless base, running as non-root.
#   docker build -t assay .
#   docker run --rm -p 9464:9464 -v $PWD/contracts:/contracts:ro assay run --brokers kafka:9092
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/assay ./cmd/assay

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/assay /usr/local/bin/assay
COPY contracts/*.yaml /contracts/
# In a container the HTTP server must listen beyond loopback.
ENV ASSAY_HTTP_LISTEN=0.0.0.0:9464 \
    ASSAY_CONTRACTS=/contracts \
    ASSAY_LOG_FORMAT=json
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/assay"]
CMD ["run"]
