package io.sluice.bench;

import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.inference.Operation;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The one pass over a request body ({@link RequestScan#scan}) on the ~1 KB chat request that
 * ops/bench sends (a system and a user message, {@code ops/bench-lib/chat-request.json}), and
 * {@link RequestScan#withModel}: {@code withModelSame} is the common case (the deployment's model
 * has the client's name, the body is forwarded as is), {@code withModelRenamed} copies the body
 * once with another name in place.
 *
 * <p>Run: {@code java -jar ops/bench-jmh/target/benchmarks.jar RequestScanBenchmark -f1 -wi 3 -i 5}
 * (add {@code -prof gc} for bytes allocated per operation).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class RequestScanBenchmark {
  byte[] body;
  RequestScan scanned;

  @Setup
  public void setup() throws RequestScan.InvalidRequest {
    body = chatRequest();
    scanned = RequestScan.scan(body, Operation.CHAT);
    if (!scanned.model().equals("gpt-4o-mini") || scanned.maxTokens() != 256) {
      throw new IllegalStateException("unexpected scan: " + scanned);
    }
  }

  /** The benchmark body: the chat request of ops/bench, packaged into this jar. */
  static byte[] chatRequest() {
    try (InputStream in = RequestScanBenchmark.class.getResourceAsStream("chat-request.json")) {
      if (in == null) {
        throw new IllegalStateException("chat-request.json is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Benchmark
  public RequestScan scan() throws RequestScan.InvalidRequest {
    return RequestScan.scan(body, Operation.CHAT);
  }

  @Benchmark
  public byte[] withModelSame() {
    return scanned.withModel(body, "gpt-4o-mini");
  }

  @Benchmark
  public byte[] withModelRenamed() {
    return scanned.withModel(body, "gpt-4o-mini-2024-07-18");
  }
}
