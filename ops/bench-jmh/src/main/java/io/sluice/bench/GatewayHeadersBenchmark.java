package io.sluice.bench;

import io.sluice.node.surface.HttpFront;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The two gateway headers every successful response gets ({@code x-sluice-deployment},
 * {@code x-sluice-overhead-ms}). {@code node} builds them as the node does, with
 * {@link HttpFront#millis}; {@code formatted} uses {@code String.format(Locale.ROOT, "%.3f")},
 * what the node did first, for comparison. Both give "0.123" for 123,456 ns.
 *
 * <p>Run: {@code java -jar ops/bench-jmh/target/benchmarks.jar GatewayHeadersBenchmark -f1 -wi 3 -i 5}
 * (add {@code -prof gc} for bytes allocated per operation).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class GatewayHeadersBenchmark {
  long overheadNanos = 123_456;
  String deployment = "openai-gpt-4o-mini";

  @Benchmark
  public List<HttpHeader> formatted() {
    List<HttpHeader> headers = new ArrayList<>(2);
    headers.add(RawHeader.create("x-sluice-deployment", deployment));
    headers.add(RawHeader.create("x-sluice-overhead-ms", String.format(Locale.ROOT, "%.3f", overheadNanos / 1e6)));
    return headers;
  }

  @Benchmark
  public List<HttpHeader> node() {
    List<HttpHeader> headers = new ArrayList<>(2);
    headers.add(RawHeader.create("x-sluice-deployment", deployment));
    headers.add(RawHeader.create("x-sluice-overhead-ms", HttpFront.millis(overheadNanos)));
    return headers;
  }
}
