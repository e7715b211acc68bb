package io.sluice.it;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A minimal OpenTelemetry collector on loopback: it takes OTLP/HTTP protobuf trace exports at
 * {@code POST /v1/traces}, decodes them with the protocol's generated classes, and keeps the spans.
 */
final class OtlpReceiver implements AutoCloseable {
  /** A received span with its attributes decoded and its ids in hex. */
  record Received(String name, Span.SpanKind kind, String traceId, String spanId, String parentSpanId,
      Map<String, AnyValue> attributes, String serviceName) {
    String string(String key) {
      AnyValue v = attributes.get(key);
      return v == null ? null : v.getStringValue();
    }

    Long integer(String key) {
      AnyValue v = attributes.get(key);
      return v == null ? null : v.getIntValue();
    }

    Double dbl(String key) {
      AnyValue v = attributes.get(key);
      return v == null ? null : v.getDoubleValue();
    }
  }

  private final HttpServer server;
  final List<Received> spans = new CopyOnWriteArrayList<>();

  private OtlpReceiver(HttpServer server) {
    this.server = server;
  }

  static OtlpReceiver start() {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      OtlpReceiver receiver = new OtlpReceiver(server);
      server.createContext("/v1/traces", exchange -> {
        try (InputStream in = exchange.getRequestBody()) {
          receiver.take(ExportTraceServiceRequest.parseFrom(in.readAllBytes()));
        }
        byte[] ok = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(ok);
        }
      });
      server.start();
      return receiver;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void take(ExportTraceServiceRequest request) {
    HexFormat hex = HexFormat.of();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      String service = rs.getResource().getAttributesList().stream().filter(a -> a.getKey().equals("service.name"))
          .map(a -> a.getValue().getStringValue()).findFirst().orElse(null);
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          Map<String, AnyValue> attributes = new HashMap<>();
          for (KeyValue kv : s.getAttributesList()) {
            attributes.put(kv.getKey(), kv.getValue());
          }
          spans.add(new Received(s.getName(), s.getKind(), hex.formatHex(s.getTraceId().toByteArray()),
              hex.formatHex(s.getSpanId().toByteArray()), hex.formatHex(s.getParentSpanId().toByteArray()),
              attributes, service));
        }
      }
    }
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
