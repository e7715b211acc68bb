package io.sluice.bench;

import io.sluice.node.inference.TokenCounter;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingType;
import io.sluice.node.admission.TokenEstimator;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.inference.Operation;
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
 * Token estimation of the prompt: the one pass over the ~1 KB chat request of ops/bench, counting
 * the messages' text with the node's {@code o200k} counter (its own splitter and piece cache,
 * {@code o200k-uncached} without the cache), with jtokkit's own {@code o200k_base} count (its
 * regular expression, {@code jtokkit-o200k}), and with {@code cl100k}; {@code none} is the scan
 * alone. With the cache, repeated runs over one body measure the steady state of a prompt whose
 * words were seen before; {@code o200k-uncached} is the worst case of all-new words.
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
  @Param({"none", "o200k", "o200k-uncached", "jtokkit-o200k", "cl100k"})
  public String estimator;

  byte[] body;
  TokenCounter counter;

  @Setup
  public void setup() throws RequestScan.InvalidRequest {
    body = RequestScanBenchmark.chatRequest();
    counter = switch (estimator) {
      case "none" -> RequestScan.NO_COUNT;
      case "o200k-uncached" -> new TokenEstimator(0).counter("o200k");
      case "jtokkit-o200k" -> Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE)::countTokensOrdinary;
      default -> new TokenEstimator(100_000).counter(estimator);
    };
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
