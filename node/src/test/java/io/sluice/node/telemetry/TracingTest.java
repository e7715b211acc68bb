package io.sluice.node.telemetry;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TracingTest {
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void create_queueFullAndCollectorDown_dropsAreCountedAndSpanEndsDoNotBlock() throws Exception {
    Tracing tracing = Tracing.create(Map.of(
        "otel.traces.exporter", "otlp",
        "otel.exporter.otlp.endpoint", "http://127.0.0.1:" + closedPort(),
        "otel.bsp.max.queue.size", "2",
        "otel.bsp.max.export.batch.size", "2",
        "otel.bsp.schedule.delay", "3600000",
        "otel.exporter.otlp.timeout", "500"));
    try {
      for (int i = 0; i < 20; i++) {
        Span s = tracing.startRequest("chat", "openai", "r" + i, h -> null);
        s.end();
      }
      // At most the queue (2) and a batch in hand (2) were kept: the other spans were dropped.
      long dropped = tracing.droppedQueueFull();
      assertTrue(dropped >= 16, "dropped " + dropped);
    } finally {
      tracing.close();
    }
  }
}
