package io.sluice.bench;

import io.sluice.node.provider.openai.SseUsage;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.openai.UsageScan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.util.ByteString;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Reading the usage of a response on its way through: {@code json} scans a chat completion
 * (usage last, as OpenAI sends it) with {@link UsageScan}; {@code sse} passes a whole stream of 16
 * content events, a usage event and [DONE], cut into network-sized chunks that split events, through
 * {@link SseUsage} as the node does (usage read and stripped, as for a client that did not ask
 * for it), including the final flush.
 *
 * <p>Run: {@code java -jar ops/bench-jmh/target/benchmarks.jar UsageScanBenchmark -f1 -wi 3 -i 5}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class UsageScanBenchmark {
  byte[] completion;
  List<ByteString> chunks;

  @Setup
  public void setup() {
    String content = "Sluice is a gateway that streams answers through and counts what they cost. ".repeat(2);
    completion = ("{\"id\":\"chatcmpl-123\",\"object\":\"chat.completion\",\"created\":1700000000,"
        + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        + "\"content\":\"" + content + "\"},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":32,\"total_tokens\":263}}")
        .getBytes(StandardCharsets.UTF_8);
    StringBuilder sse = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      sse.append("data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
          + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token").append(i)
          .append(" \"},\"finish_reason\":null}]}\n\n");
    }
    sse.append("data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
        + "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":16,"
        + "\"total_tokens\":247}}\n\n");
    sse.append("data: [DONE]\n\n");
    byte[] bytes = sse.toString().getBytes(StandardCharsets.UTF_8);
    chunks = new ArrayList<>();
    for (int at = 0; at < bytes.length; at += 700) { // chunks that cut events in two
      chunks.add(ByteString.fromArray(bytes, at, Math.min(700, bytes.length - at)));
    }
    if (!UsageScan.of(completion).equals(Usage.of(231, 32))) {
      throw new IllegalStateException("unexpected usage");
    }
  }

  @Benchmark
  public Usage json() {
    return UsageScan.of(completion);
  }

  @Benchmark
  public Usage sse(Blackhole bh) {
    SseUsage usage = new SseUsage(true);
    for (ByteString chunk : chunks) {
      bh.consume(usage.onChunk(chunk));
    }
    bh.consume(usage.flush());
    Usage t = usage.usage();
    if (t == null || t.completionTokens() != 16) {
      throw new IllegalStateException("usage not read: " + t);
    }
    return t;
  }
}
