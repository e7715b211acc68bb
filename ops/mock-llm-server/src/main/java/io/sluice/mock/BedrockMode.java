package io.sluice.mock;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * The AWS Bedrock Converse mode: {@code POST /model/{modelId}/converse} and
 * {@code /converse-stream}, with the same knobs as the other modes (set per server with
 * {@code POST /mock/config}, since a Converse body has no room for them).
 *
 * <p>Authentication is checked as AWS checks it: a SigV4 {@code Authorization} is recomputed with the
 * AWS SDK's own signer ({@link AwsV4HttpSigner}) from what arrived (the raw path, the Host header,
 * the signed headers, the body bytes, the {@code X-Amz-Date}) and the secret of the access key id it
 * names, and must match exactly; an unknown key, a wrong secret, a body that does not match its
 * {@code x-amz-content-sha256}, or no authentication at all is answered 403 in AWS's shape. The
 * credentials are {@link #DEFAULT_ACCESS_KEY_ID}/{@link #DEFAULT_SECRET_ACCESS_KEY} unless
 * {@code POST /mock/config {"aws": {"access_key_id", "secret_access_key", "session_token"?}}} sets
 * others. A Bedrock API key ({@code Authorization: Bearer K}) is let in when K is the mock's
 * {@code --api-key}. Request time is not checked against the clock (AWS allows 5 minutes of skew).
 *
 * <p>Answers: {@code tokens} words of text, or, when the request has tools and {@code toolChoice} is
 * {@code any} or {@code tool} (or the {@code tool_use} knob is set), one {@code toolUse} whose input
 * gives each top-level schema property a value of its type. {@code inferenceConfig.maxTokens} cuts
 * the text (stop reason {@code max_tokens}). Usage: input {@code max(1, text bytes / 4) + 3 per
 * message + 100 per image}, output the number of deltas, unless the {@code usage} knobs say
 * otherwise ({@code cache_read_input_tokens} and {@code cache_creation_input_tokens} become
 * {@code cacheReadInputTokens} and {@code cacheWriteInputTokens}). A stream is real event-stream
 * frames: messageStart, contentBlockStart (tool use), contentBlockDelta, contentBlockStop,
 * messageStop, metadata. Errors carry {@code x-amzn-ErrorType}; {@code error_after_tokens} sends an
 * exception frame named by {@code error_type} (default {@code modelStreamErrorException}).
 */
final class BedrockMode {
  static final String DEFAULT_ACCESS_KEY_ID = "AKIAMOCKEXAMPLE00000";
  static final String DEFAULT_SECRET_ACCESS_KEY = "mock/secret/access/key/EXAMPLEKEY000000000";
  static final String EVENT_STREAM = "application/vnd.amazon.eventstream";
  private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();
  private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX");

  /** The credentials a request may be signed with. */
  record Credentials(String accessKeyId, String secretAccessKey, String sessionToken) {
    static final Credentials DEFAULT = new Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, null);
  }

  /** An answer the handler writes: an error (status, AWS error name, message), or null when let in. */
  record Refusal(int status, String errorType, String message) {}

  private BedrockMode() {}

  /** Whether {@code path} is a Converse path: {@code /model/{id}/converse} or {@code /model/{id}/converse-stream}. */
  static boolean isConverse(String path) {
    return path.startsWith("/model/") && (path.endsWith("/converse") || path.endsWith("/converse-stream"));
  }

  /**
   * Checks the request's authentication; null when it is let in.
   *
   * @param header a request header by name, null when absent
   */
  static Refusal authenticate(String rawPath, Function<String, String> header, byte[] body, Credentials creds,
      String apiKey) {
    String auth = header.apply("authorization");
    if (auth == null) {
      return new Refusal(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    if (auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return apiKey != null && auth.substring(7).equals(apiKey) ? null
          : new Refusal(403, "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix");
    }
    if (!auth.startsWith("AWS4-HMAC-SHA256 ")) {
      return new Refusal(403, "IncompleteSignatureException", "Authorization header requires 'Credential' parameter.");
    }
    Map<String, String> parts = new LinkedHashMap<>();
    for (String p : auth.substring(17).split(",")) {
      int eq = p.indexOf('=');
      if (eq > 0) {
        parts.put(p.substring(0, eq).strip(), p.substring(eq + 1).strip());
      }
    }
    String[] scope = parts.getOrDefault("Credential", "").split("/");
    String signedHeaders = parts.get("SignedHeaders");
    if (scope.length != 5 || signedHeaders == null || parts.get("Signature") == null) {
      return new Refusal(403, "IncompleteSignatureException", "Authorization header requires 'Credential', "
          + "'SignedHeaders' and 'Signature' parameters.");
    }
    if (!scope[0].equals(creds.accessKeyId())) {
      return new Refusal(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    if (!scope[3].equals("bedrock") || !scope[4].equals("aws4_request")) {
      return new Refusal(403, "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'.");
    }
    String token = header.apply("x-amz-security-token");
    if (creds.sessionToken() != null && !creds.sessionToken().equals(token)) {
      return new Refusal(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    String sha = header.apply("x-amz-content-sha256");
    if (sha != null && !sha.equalsIgnoreCase(sha256(body))) {
      return new Refusal(400, "ValidationException", "The provided 'x-amz-content-sha256' header does not match "
          + "what was computed.");
    }
    Instant at;
    try {
      at = ZonedDateTime.parse(String.valueOf(header.apply("x-amz-date")), AMZ_DATE).toInstant();
    } catch (DateTimeParseException e) {
      return new Refusal(403, "IncompleteSignatureException", "Authorization header requires existence of either a "
          + "'X-Amz-Date' or a 'Date' header.");
    }
    String host = header.apply("host");
    SdkHttpFullRequest.Builder wire = SdkHttpFullRequest.builder().method(SdkHttpMethod.POST)
        .uri(URI.create("http://" + host + rawPath)).putHeader("Host", host);
    for (String name : signedHeaders.split(";")) {
      // host is set above; the date and the payload hash the signer writes itself, from the clock and the body
      if (!name.equals("host") && !name.equals("x-amz-date") && !name.equals("x-amz-content-sha256")) {
        String v = header.apply(name);
        if (v != null) {
          wire.putHeader(name, v);
        }
      }
    }
    AwsCredentialsIdentity identity = creds.sessionToken() == null
        ? AwsCredentialsIdentity.create(creds.accessKeyId(), creds.secretAccessKey())
        : AwsSessionCredentialsIdentity.create(creds.accessKeyId(), creds.secretAccessKey(), creds.sessionToken());
    String expected = SIGNER.sign(r -> r.identity(identity).request(wire.build())
            .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "bedrock")
            .putProperty(AwsV4HttpSigner.REGION_NAME, scope[2])
            .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)))
        .request().firstMatchingHeader("Authorization").orElse("");
    if (!signature(expected).equals(parts.get("Signature"))
        || !expectedSignedHeaders(expected).equals(signedHeaders)) {
      return new Refusal(403, "InvalidSignatureException", "The request signature we calculated does not match the "
          + "signature you provided. Check your AWS Secret Access Key and signing method. Consult the service "
          + "documentation for details.");
    }
    return null;
  }

  private static String signature(String authorization) {
    int i = authorization.indexOf("Signature=");
    return i < 0 ? "" : authorization.substring(i + 10).strip();
  }

  private static String expectedSignedHeaders(String authorization) {
    int i = authorization.indexOf("SignedHeaders=");
    int end = authorization.indexOf(',', i);
    return i < 0 || end < 0 ? "" : authorization.substring(i + 14, end);
  }

  static String sha256(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** The AWS error name Bedrock gives a status. */
  static String errorType(int status) {
    return switch (status) {
      case 400 -> "ValidationException";
      case 403 -> "AccessDeniedException";
      case 404 -> "ResourceNotFoundException";
      case 408 -> "ModelTimeoutException";
      case 424 -> "ModelErrorException";
      case 429 -> "ThrottlingException";
      case 503 -> "ServiceUnavailableException";
      default -> status >= 500 ? "InternalServerException" : "ValidationException";
    };
  }

  /** AWS's error body. */
  static String errorBody(String message) {
    return Json.str(new StringBuilder("{\"message\":"), message).append('}').toString();
  }

  /** What the mock reads from a Converse body. */
  static final class Request {
    int messages;
    int images;
    int toolUses;
    int toolResults;
    long textBytes;
    long maxTokens = -1;
    /** Tool name to its input JSON. */
    final Map<String, String> tools = new LinkedHashMap<>();
    /** auto, any or tool; null when absent. */
    String toolChoice;
    String toolChoiceName;

    int inputTokens() {
      long n = Math.max(1, textBytes / 4) + 3L * messages + 100L * images;
      return (int) Math.min(Integer.MAX_VALUE, n);
    }

    /** What the request held, for {@code x-mock-request-summary}. */
    String summary() {
      return "messages=" + messages + " images=" + images + " tool_uses=" + toolUses + " tool_results=" + toolResults
          + " tools=" + tools.size() + " tool_choice=" + toolChoice;
    }

    @SuppressWarnings("unchecked")
    static Request parse(JsonFactory json, byte[] body) throws IOException, MockRequest.Invalid {
      Object root;
      try (JsonParser p = json.createParser(body)) {
        root = value(p, p.nextToken());
      }
      if (!(root instanceof Map<?, ?> m)) {
        throw new MockRequest.Invalid("The request body must be a JSON object.", null, null);
      }
      Request r = new Request();
      if (!(m.get("messages") instanceof List<?> messages) || messages.isEmpty()) {
        throw new MockRequest.Invalid("Malformed input request: messages is required and must not be empty.", null, null);
      }
      for (Object o : messages) {
        r.messages++;
        Map<String, Object> msg = o instanceof Map<?, ?> mm ? (Map<String, Object>) mm : Map.of();
        if (!(msg.get("role") instanceof String role) || !(role.equals("user") || role.equals("assistant"))) {
          throw new MockRequest.Invalid("Malformed input request: role must be user or assistant.", null, null);
        }
        if (!(msg.get("content") instanceof List<?> content) || content.isEmpty()) {
          throw new MockRequest.Invalid("Malformed input request: content must not be empty.", null, null);
        }
        for (Object b : content) {
          Map<String, Object> block = b instanceof Map<?, ?> bb ? (Map<String, Object>) bb : Map.of();
          if (block.size() != 1) {
            throw new MockRequest.Invalid("Malformed input request: a content block must have exactly one member.",
                null, null);
          }
          if (block.get("text") instanceof String t) {
            if (t.isBlank()) {
              throw new MockRequest.Invalid("The text field in the ContentBlock object is blank.", null, null);
            }
            r.textBytes += t.getBytes(StandardCharsets.UTF_8).length;
          } else if (block.get("image") instanceof Map<?, ?> img) {
            Object source = img.get("source");
            if (!(source instanceof Map<?, ?> s) || !(s.get("bytes") instanceof String) || !(img.get("format") instanceof String)) {
              throw new MockRequest.Invalid("Malformed input request: image needs format and source.bytes.", null, null);
            }
            r.images++;
          } else if (block.get("toolUse") instanceof Map<?, ?>) {
            r.toolUses++;
          } else if (block.get("toolResult") instanceof Map<?, ?> tr) {
            r.toolResults++;
            if (tr.get("content") instanceof List<?> parts) {
              for (Object part : parts) {
                if (part instanceof Map<?, ?> pm && pm.get("text") instanceof String t) {
                  r.textBytes += t.getBytes(StandardCharsets.UTF_8).length;
                }
              }
            }
          } else if (!block.containsKey("reasoningContent") && !block.containsKey("cachePoint")) {
            throw new MockRequest.Invalid("Malformed input request: unknown content block " + block.keySet() + ".",
                null, null);
          }
        }
      }
      if (m.get("system") instanceof List<?> system) {
        for (Object s : system) {
          if (s instanceof Map<?, ?> sm && sm.get("text") instanceof String t) {
            r.textBytes += t.getBytes(StandardCharsets.UTF_8).length;
          }
        }
      }
      if (m.get("inferenceConfig") instanceof Map<?, ?> ic && ic.get("maxTokens") instanceof Number n) {
        r.maxTokens = n.longValue();
      }
      if (m.get("toolConfig") instanceof Map<?, ?> tc) {
        if (tc.get("tools") instanceof List<?> tools) {
          for (Object t : tools) {
            if (t instanceof Map<?, ?> tm && tm.get("toolSpec") instanceof Map<?, ?> spec
                && spec.get("name") instanceof String name) {
              Object schema = spec.get("inputSchema") instanceof Map<?, ?> is ? is.get("json") : null;
              r.tools.put(name, exampleInput(schema));
            }
          }
        }
        if (r.tools.isEmpty()) {
          throw new MockRequest.Invalid("The value at toolConfig.tools must have at least one tool.", null, null);
        }
        if (tc.get("toolChoice") instanceof Map<?, ?> choice && !choice.isEmpty()) {
          r.toolChoice = String.valueOf(choice.keySet().iterator().next());
          if (choice.get("tool") instanceof Map<?, ?> named) {
            r.toolChoiceName = String.valueOf(named.get("name"));
            if (!r.tools.containsKey(r.toolChoiceName)) {
              throw new MockRequest.Invalid("The tool " + r.toolChoiceName + " in toolChoice is not in toolConfig.tools.",
                  null, null);
            }
          }
        }
      } else if (r.toolUses + r.toolResults > 0) {
        throw new MockRequest.Invalid("The toolConfig field must be defined when using toolUse and toolResult content "
            + "blocks.", null, null);
      }
      return r;
    }

    /** The tool the answer calls, or null for a text answer. */
    String chosenTool(boolean toolUseKnob) {
      if ("tool".equals(toolChoice)) {
        return toolChoiceName;
      }
      if (tools.isEmpty()) {
        return null;
      }
      return "any".equals(toolChoice) || toolUseKnob ? tools.keySet().iterator().next() : null;
    }
  }

  /** Each top-level property of the schema valued by its type: the first enum value, else "mock", 1, true, [], {}, null. */
  private static String exampleInput(Object schema) {
    StringBuilder sb = new StringBuilder("{");
    if (schema instanceof Map<?, ?> s && s.get("properties") instanceof Map<?, ?> props) {
      for (Map.Entry<?, ?> e : props.entrySet()) {
        if (sb.length() > 1) {
          sb.append(',');
        }
        Json.str(sb, String.valueOf(e.getKey())).append(':');
        Map<?, ?> prop = e.getValue() instanceof Map<?, ?> pm ? pm : Map.of();
        if (prop.get("enum") instanceof List<?> values && !values.isEmpty() && values.get(0) instanceof String v) {
          Json.str(sb, v);
          continue;
        }
        sb.append(switch (String.valueOf(prop.get("type"))) {
          case "string" -> "\"mock\"";
          case "integer", "number" -> "1";
          case "boolean" -> "true";
          case "array" -> "[]";
          case "object" -> "{}";
          default -> "null";
        });
      }
    }
    return sb.append('}').toString();
  }

  private static Object value(JsonParser p, JsonToken t) throws IOException {
    if (t == null) {
      return null;
    }
    switch (t) {
      case START_OBJECT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          m.put(name, value(p, p.nextToken()));
        }
        return m;
      }
      case START_ARRAY -> {
        List<Object> l = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
          l.add(value(p, e));
        }
        return l;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        return p.getNumberValue();
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      default -> {
        return null;
      }
    }
  }

  /** One answer, decided once and rendered whole or as frames, so both renderings agree. */
  static final class Reply {
    final int textTokens;
    final String tool;
    final String toolInput;
    final String toolId;
    final String stopReason;
    final long inputTokens;
    final long outputTokens;
    final long cacheRead;
    final long cacheWrite;

    Reply(Request r, MockRequest knobs, int tokens, String toolId) {
      String chosen = r.chosenTool(knobs.toolUse);
      boolean forced = "any".equals(r.toolChoice) || "tool".equals(r.toolChoice);
      int text = chosen != null && forced ? 0 : tokens;
      String stop = chosen != null ? "tool_use" : "end_turn";
      if (r.maxTokens >= 0 && text > r.maxTokens) {
        text = (int) r.maxTokens;
        chosen = null;
        stop = "max_tokens";
      }
      this.textTokens = text;
      this.tool = chosen;
      this.toolInput = chosen == null ? null : r.tools.get(chosen);
      this.toolId = chosen == null ? null : toolId;
      this.stopReason = stop;
      this.inputTokens = knobs.usageInput >= 0 ? knobs.usageInput : r.inputTokens();
      this.outputTokens = knobs.usageOutput >= 0 ? knobs.usageOutput : deltas();
      this.cacheRead = Math.max(0, knobs.usageCacheRead);
      this.cacheWrite = Math.max(0, knobs.usageCacheCreation);
    }

    /** Text deltas plus one tool-input delta when a tool is called. */
    int deltas() {
      return textTokens + (tool == null ? 0 : 1);
    }

    /** The Converse response body. */
    String whole() {
      StringBuilder sb = new StringBuilder(256 + textTokens * Payloads.TOKEN.length());
      sb.append("{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[");
      if (textTokens > 0) {
        sb.append("{\"text\":\"").append(Payloads.TOKEN.repeat(textTokens)).append("\"}");
      }
      if (tool != null) {
        sb.append(textTokens > 0 ? "," : "").append("{\"toolUse\":{\"toolUseId\":");
        Json.str(sb, toolId).append(",\"name\":");
        Json.str(sb, tool).append(",\"input\":").append(toolInput).append("}}");
      }
      sb.append("]}},\"stopReason\":\"").append(stopReason).append("\",\"usage\":");
      return usage(sb).append(",\"metrics\":{\"latencyMs\":1}}").toString();
    }

    private StringBuilder usage(StringBuilder sb) {
      sb.append("{\"inputTokens\":").append(inputTokens).append(",\"outputTokens\":").append(outputTokens)
          .append(",\"totalTokens\":").append(inputTokens + outputTokens + cacheRead + cacheWrite);
      if (cacheRead > 0 || cacheWrite > 0) {
        sb.append(",\"cacheReadInputTokens\":").append(cacheRead).append(",\"cacheWriteInputTokens\":").append(cacheWrite);
      }
      return sb.append('}');
    }

    /**
     * The ConverseStream frames, each with whether it is a content delta (the handler counts those for
     * {@code fail_after_tokens}, {@code error_after_tokens} and {@code inter_token_ms}).
     */
    List<Frame> frames() {
      List<Frame> out = new ArrayList<>(textTokens + 8);
      out.add(event("messageStart", "{\"role\":\"assistant\"}", false));
      int block = 0;
      if (textTokens > 0) {
        for (int i = 0; i < textTokens; i++) {
          out.add(event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"" + Payloads.TOKEN + "\"}}",
              true));
        }
        out.add(event("contentBlockStop", "{\"contentBlockIndex\":0}", false));
        block = 1;
      }
      if (tool != null) {
        StringBuilder start = new StringBuilder("{\"contentBlockIndex\":").append(block)
            .append(",\"start\":{\"toolUse\":{\"toolUseId\":");
        Json.str(start, toolId).append(",\"name\":");
        Json.str(start, tool).append("}}}");
        out.add(event("contentBlockStart", start.toString(), false));
        StringBuilder delta = new StringBuilder("{\"contentBlockIndex\":").append(block)
            .append(",\"delta\":{\"toolUse\":{\"input\":");
        Json.str(delta, toolInput).append("}}}");
        out.add(event("contentBlockDelta", delta.toString(), true));
        out.add(event("contentBlockStop", "{\"contentBlockIndex\":" + block + "}", false));
      }
      out.add(event("messageStop", "{\"stopReason\":\"" + stopReason + "\"}", false));
      out.add(event("metadata", usage(new StringBuilder("{\"usage\":")).append(",\"metrics\":{\"latencyMs\":1}}")
          .toString(), false));
      return out;
    }
  }

  /** One encoded event-stream frame. */
  record Frame(byte[] bytes, boolean delta) {}

  static Frame event(String type, String json, boolean delta) {
    Map<String, HeaderValue> h = new LinkedHashMap<>();
    h.put(":event-type", HeaderValue.fromString(type));
    h.put(":content-type", HeaderValue.fromString("application/json"));
    h.put(":message-type", HeaderValue.fromString("event"));
    return new Frame(encode(h, json), delta);
  }

  /** An exception frame, as ConverseStream ends a stream that failed after it began. */
  static Frame exception(String type, String message) {
    Map<String, HeaderValue> h = new LinkedHashMap<>();
    h.put(":exception-type", HeaderValue.fromString(type));
    h.put(":content-type", HeaderValue.fromString("application/json"));
    h.put(":message-type", HeaderValue.fromString("exception"));
    return new Frame(encode(h, errorBody(message)), false);
  }

  private static byte[] encode(Map<String, HeaderValue> headers, String json) {
    java.nio.ByteBuffer b = new Message(headers, json.getBytes(StandardCharsets.UTF_8)).toByteBuffer();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
