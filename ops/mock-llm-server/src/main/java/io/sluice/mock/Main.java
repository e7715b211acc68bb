package io.sluice.mock;

import java.io.PrintStream;
import java.util.Set;

/**
 * Command-line entry point of {@code mock-llm.jar}: parses {@code --name value} flags into
 * {@link MockSettings}, starts the server and prints {@code mock-llm listening on http://HOST:PORT},
 * which scripts and tests parse to find the port. SIGTERM stops it cleanly.
 */
public final class Main {
  static final String USAGE = """
      usage: mock-llm [--host H] [--port P] [--latency-ms N] [--ttft-ms N] [--inter-token-ms N]
                      [--tokens N] [--error-rate F] [--error-status S] [--api-key K] [--threads N]
        --host            address to bind (default 127.0.0.1)
        --port            port to bind, 0 = any free port (default 9999)
        --latency-ms      delay before a non-streaming response (default 0)
        --ttft-ms         delay before the first streamed chunk (default 0)
        --inter-token-ms  delay between streamed chunks (default 0)
        --tokens          completion tokens per response (default 16)
        --error-rate      fraction in [0,1] of inference requests answered with an error (default 0)
        --error-status    HTTP status of those errors (default 500)
        --api-key         require 'Authorization: Bearer K' on /v1/* (/v1/messages: or 'x-api-key: K';
                          Gemini paths: or 'x-goog-api-key: K') (default: none)
        --threads         Netty event-loop threads (default 1)
      OpenAI: /v1/chat/completions (tool calls, max_tokens), /v1/embeddings, /v1/completions (legacy),
      /v1/models, /v1/responses (Responses API: items, function tools, max_output_tokens, response.*
      events). Azure OpenAI: /openai/deployments/{d}/chat/completions|embeddings|completions?api-version=V
      (api-version required) and /openai/v1/..., authenticated by an 'api-key' header. Anthropic:
      /v1/messages (needs an anthropic-version header; tool use, max_tokens, event: lines),
      /v1/messages/count_tokens.
      Gemini: POST /v1beta/models/M:generateContent and :streamGenerateContent (?alt=sse: SSE, else a
      JSON array), also under v1/v1beta1 and Vertex's /v1/projects/P/locations/L/publishers/google/
      models/M:... (function calls with thoughtSignature, maxOutputTokens, Google's error envelope).
      AWS Bedrock: /model/{id}/converse and /converse-stream (event-stream frames), SigV4 verified
      against AKIAMOCKEXAMPLE00000 / mock/secret/access/key/EXAMPLEKEY000000000 unless POST /mock/config
      {"aws": {"access_key_id", "secret_access_key", "session_token"}} sets others; knobs from /mock/config.
      A request body may override per request: "mock": {"latency_ms", "ttft_ms", "inter_token_ms",
      "tokens", "status", "retry_after", "fail_after_tokens", "usage": {"input_tokens", "output_tokens",
      "cache_creation_input_tokens", "cache_read_input_tokens", "thoughts_tokens" (Gemini)}, "tool_use"} and,
      on /v1/messages, /v1/responses and Gemini paths, "error_after_tokens" ("error_type": Messages and
      Responses only). Introspection: GET /mock/stats, POST /mock/reset,
      GET /mock/last-request; POST /mock/config {"error_rate", "latency_ms", "script": [status, ...],
      "mock": {knobs for every request}}.""";

  private static final Set<String> FLAGS = Set.of("--host", "--port", "--latency-ms", "--ttft-ms",
      "--inter-token-ms", "--tokens", "--error-rate", "--error-status", "--api-key", "--threads");

  private Main() {}

  public static void main(String[] args) {
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println(USAGE);
      return;
    }
    MockSettings settings;
    try {
      settings = parse(args);
    } catch (IllegalArgumentException e) {
      usage(System.err, e.getMessage());
      System.exit(2);
      return;
    }
    MockLlmServer server;
    try {
      server = MockLlmServer.start(settings);
    } catch (RuntimeException e) {
      System.err.println("mock-llm: cannot listen on " + settings.host() + ":" + settings.port() + ": " + e);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "mock-llm-shutdown"));
    System.out.println("mock-llm listening on " + server.baseUrl());
    System.out.flush();
    server.awaitTermination();
  }

  /** Parses the flags; throws IllegalArgumentException with a one-line reason on any bad flag or value. */
  static MockSettings parse(String[] args) {
    MockSettings s = MockSettings.defaults();
    for (int i = 0; i < args.length; i += 2) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value for " + flag);
      }
      if (!FLAGS.contains(flag)) {
        throw new IllegalArgumentException("unknown flag " + flag);
      }
      String v = args[i + 1];
      try {
        s = switch (flag) {
          case "--host" -> s.withHost(v);
          case "--port" -> s.withPort(Integer.parseInt(v));
          case "--latency-ms" -> s.withLatencyMs(Long.parseLong(v));
          case "--ttft-ms" -> s.withTtftMs(Long.parseLong(v));
          case "--inter-token-ms" -> s.withInterTokenMs(Long.parseLong(v));
          case "--tokens" -> s.withTokens(Integer.parseInt(v));
          case "--error-rate" -> s.withErrorRate(Double.parseDouble(v));
          case "--error-status" -> s.withErrorStatus(Integer.parseInt(v));
          case "--api-key" -> s.withApiKey(v);
          case "--threads" -> s.withThreads(Integer.parseInt(v));
          default -> throw new AssertionError(flag);
        };
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad value for " + flag + ": " + v);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("bad value for " + flag + ": " + v + " (" + e.getMessage() + ")");
      }
    }
    return s;
  }

  private static void usage(PrintStream out, String problem) {
    out.println("mock-llm: " + problem);
    out.println(USAGE);
  }
}
