package io.sluice.bench;

import io.sluice.node.admission.TokenEstimator;
import io.sluice.node.api.RequestScan;
import io.sluice.node.api.RequestScan.Operation;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Token estimation of the prompt: the one pass over the ~1 KB chat request of ops/bench with each
 * of the node's prompt estimators ({@code sluice.quota.prompt-estimator}) counting the messages'
 * text, against the pass that counts nothing ({@code none}, the scan alone).
 *
 * <p>Run: {@code java -jar ops/bench-jmh/target/benchmarks.jar TokenEstimatorBenchmark -f1 -wi 3 -i 5}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class TokenEstimatorBenchmark {
  @Param({"none", "o200k", "cl100k"})
  public String estimator;

  byte[] body;
  RequestScan.TokenCounter counter;

  @Setup
  public void setup() throws RequestScan.InvalidRequest {
    body = RequestScanBenchmark.chatRequest();
    counter = estimator.equals("none") ? RequestScan.NO_COUNT : new TokenEstimator().counter(estimator);
    long tokens = RequestScan.scan(body, Operation.CHAT, counter).promptTokens();
    if (!estimator.equals("none") && tokens < 100) {
      throw new IllegalStateException("unexpected count: " + tokens);
    }
  }

  @Benchmark
  public long scanAndCount() throws RequestScan.InvalidRequest {
    return RequestScan.scan(body, Operation.CHAT, counter).promptTokens();
  }
}
