package io.sluice.it;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The mock OpenAI upstream, started as the README starts it: {@code ops/mock-llm --port N}. */
final class MockUpstream implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("mock-llm listening on http://[^:]+:(\\d+)");
  private final ManagedProcess process;
  final int port;

  private MockUpstream(ManagedProcess process, int port) {
    this.process = process;
    this.port = port;
  }

  static MockUpstream start(String name, String... flags) {
    Path dir = Repo.scratch("mock-" + name);
    Path log = dir.resolve("mock.log");
    List<String> cmd = new ArrayList<>(List.of("bash", "ops/mock-llm", "--port", "0"));
    cmd.addAll(List.of(flags));
    ManagedProcess p = new ManagedProcess(cmd, Map.of(), log);
    int[] port = {0};
    await("mock upstream " + name + " listening").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> {
          if (!p.alive()) {
            throw new IllegalStateException("mock exited: " + Files.readString(log));
          }
          Matcher m = LISTENING.matcher(Files.readString(log));
          if (m.find()) {
            port[0] = Integer.parseInt(m.group(1));
            return true;
          }
          return false;
        });
    return new MockUpstream(p, port[0]);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port + "/v1";
  }

  JsonNode stats() {
    return Api.json(Api.send("GET", "http://127.0.0.1:" + port + "/mock/stats", Map.of(), null).body());
  }

  JsonNode lastRequest() {
    return Api.json(Api.send("GET", "http://127.0.0.1:" + port + "/mock/last-request", Map.of(), null).body());
  }

  /** Changes the mock at run time: error rate, latency, or a script of statuses for the next requests. */
  void configure(String json) {
    Api.send("POST", "http://127.0.0.1:" + port + "/mock/config", Map.of(), json);
  }

  void reset() {
    Api.send("POST", "http://127.0.0.1:" + port + "/mock/reset", Map.of(), "");
  }

  @Override
  public void close() {
    process.stop();
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
