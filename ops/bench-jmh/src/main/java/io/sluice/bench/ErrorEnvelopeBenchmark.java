package io.sluice.bench;

import io.sluice.node.api.OpenAiError;
import io.sluice.node.http.Responses;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.HttpResponse;
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
 * The OpenAI error envelope: {@link OpenAiError#toJson} for the 401 every bad key gets and for a
 * 404 with the model's name in its message, and {@link Responses#error}, the whole Pekko HTTP
 * response that carries it.
 *
 * <p>Run: {@code java -jar ops/bench-jmh/target/benchmarks.jar ErrorEnvelopeBenchmark -f1 -wi 3 -i 5}
 * (add {@code -prof gc} for bytes allocated per operation).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ErrorEnvelopeBenchmark {
  String model = "gpt-5-preview";

  @Benchmark
  public byte[] invalidApiKeyJson() {
    return OpenAiError.invalidApiKey().toJson();
  }

  @Benchmark
  public byte[] modelNotFoundJson() {
    return OpenAiError.modelNotFound(model).toJson();
  }

  @Benchmark
  public HttpResponse invalidApiKeyResponse() {
    return Responses.error(OpenAiError.invalidApiKey());
  }
}
