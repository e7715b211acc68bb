package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.StreamTap;
import io.sluice.node.provider.UpstreamError;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.pekko.util.ByteString;

/**
 * The Anthropic Messages protocol in both directions, as pure functions over bytes and the neutral
 * chat model: a client's {@code /v1/messages} request into a {@link ChatRequest} and the neutral
 * request into one for an Anthropic upstream; an upstream's whole response into a
 * {@link ChatResponse} and a neutral response into the message a client's SDK parses; the SSE
 * stream both ways; the error envelope; and a tap that reads usage off a stream passing through
 * untranslated. It exists so that the Anthropic provider and the Anthropic surface share one
 * reading of the protocol, and so the wire records stay private to this package.
 */
public final class AnthropicCodec {
  /**
   * Jackson's mapper, shared: it is thread-safe once configured. Writes records in component order,
   * and characters outside the BMP (emoji) as UTF-8 rather than as escaped surrogate pairs.
   */
  static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build());
  /** Reads client bodies: a repeated key is refused rather than silently taking the last value. */
  private static final ObjectReader STRICT = JSON.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ID_CHARS =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

  private AnthropicCodec() {}

  /** A client's Messages request body in neutral form; refuses what Anthropic would refuse with 400. */
  public static ChatRequest decodeRequest(byte[] body) throws InvalidChat {
    JsonNode root;
    try {
      root = STRICT.readTree(body);
    } catch (IOException e) {
      throw notJson(e);
    }
    return RequestDecoder.decode(root);
  }

  /**
   * The neutral request as an Anthropic Messages body for the upstream.
   *
   * @param defaultMaxTokens the output limit when the request set none (Anthropic requires one)
   */
  public static byte[] encodeRequest(ChatRequest r, long defaultMaxTokens) {
    return write(RequestEncoder.encode(r, defaultMaxTokens));
  }

  /** An upstream's whole Messages response in neutral form. */
  public static ChatResponse decodeResponse(byte[] body) throws InvalidChat {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new InvalidChat("The upstream response is not valid JSON.", null);
    }
    if (root == null || !root.isObject() || !root.path("content").isArray()) {
      throw new InvalidChat("The upstream response is not an Anthropic message.", "content");
    }
    List<Part> content = new ArrayList<>();
    for (JsonNode block : root.path("content")) {
      switch (block.path("type").asText()) {
        case "text" -> content.add(new Part.Text(block.path("text").asText()));
        case "tool_use" -> content.add(new Part.ToolCall(text(block, "id"), text(block, "name"),
            toJsonText(block.get("input"))));
        default -> { } // thinking, redacted_thinking and server-tool blocks have no neutral form
      }
    }
    return new ChatResponse(text(root, "id"), text(root, "model"), content,
        finishReason(text(root, "stop_reason")), usageOf(root.get("usage")));
  }

  /** A neutral response as the Anthropic message the official SDKs parse. */
  public static byte[] encodeResponse(ChatResponse r) {
    return encodeResponse(r, AnthropicCodec::newId);
  }

  static byte[] encodeResponse(ChatResponse r, UnaryOperator<String> ids) {
    List<AnthropicWire.Block> content = new ArrayList<>();
    for (Part p : r.content()) {
      if (p instanceof Part.Text t) {
        content.add(new AnthropicWire.TextBlock(t.text()));
      } else if (p instanceof Part.ToolCall c) {
        content.add(new AnthropicWire.ToolUseBlock(c.id(), c.name(), toolInput(c.arguments())));
      } // an image or a tool result is never model output
    }
    String id = r.id() == null || r.id().isEmpty() ? ids.apply("msg_") : r.id();
    return write(new AnthropicWire.Response(id, "message", "assistant", r.model(), content,
        r.finishReason() == null ? null : stopReason(r.finishReason()), null, wireUsage(r.usage())));
  }

  /** A decoder of an Anthropic SSE body into neutral events; one per stream. */
  public static StreamDecoder streamDecoder() {
    return new AnthropicStreamDecoder();
  }

  /**
   * An encoder of neutral events into the SSE stream the Anthropic SDKs parse; one per stream.
   *
   * @param model the model name the client asked for, written into {@code message_start}
   */
  public static StreamEncoder streamEncoder(String model) {
    return new AnthropicStreamEncoder(model);
  }

  /** An upstream's error answer, read from Anthropic's envelope, classified and redacted. */
  public static UpstreamError error(int status, ByteString body) {
    return AnthropicErrors.parse(status, body);
  }

  /** The usage of a whole native response (for passthrough), or null when it carries none. */
  public static Usage usage(byte[] body) {
    try {
      JsonNode root = JSON.readTree(body);
      return root == null ? null : usageOf(root.get("usage"));
    } catch (IOException e) {
      return null;
    }
  }

  /** A tap for an Anthropic stream that passes through to an Anthropic client; one per stream. */
  public static StreamTap tap() {
    return new AnthropicTap();
  }

  // Shared by the package's translators.

  /** A parse failure as the client's 400: a repeated key is named (Jackson's wording), anything else is not. */
  static InvalidChat notJson(IOException e) {
    String m = e.getMessage();
    if (m != null && m.startsWith("Duplicate field")) {
      int end = m.indexOf('\n');
      return new InvalidChat("The request body repeats a key: " + (end < 0 ? m : m.substring(0, end)) + ".", null);
    }
    return new InvalidChat("The request body is not valid JSON.", null);
  }

  /** Anthropic's stop reason in neutral terms; an unknown one (a newer API's) reads as a natural stop. */
  static FinishReason finishReason(String stopReason) {
    if (stopReason == null) {
      return null;
    }
    return switch (stopReason) {
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "refusal" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.STOP; // end_turn, stop_sequence, pause_turn
    };
  }

  /** The neutral reason as the stop reason an Anthropic SDK knows. */
  static String stopReason(FinishReason reason) {
    return switch (reason) {
      case STOP -> "end_turn";
      case LENGTH -> "max_tokens";
      case TOOL_CALLS -> "tool_use";
      case CONTENT_FILTER -> "refusal";
    };
  }

  /**
   * Anthropic's usage object in neutral terms: every input token billed, cached ones included, is
   * a prompt token. Null when the node is absent or carries no token count.
   */
  static Usage usageOf(JsonNode u) {
    if (u == null || !u.isObject() || (!u.has("input_tokens") && !u.has("output_tokens"))) {
      return null;
    }
    long input = u.path("input_tokens").asLong(0);
    long write = u.path("cache_creation_input_tokens").asLong(0);
    long read = u.path("cache_read_input_tokens").asLong(0);
    return new Usage(input + write + read, u.path("output_tokens").asLong(0), read, write);
  }

  /** The neutral usage as Anthropic's, whose input_tokens leave out the cached ones; zeros when none. */
  static AnthropicWire.WireUsage wireUsage(Usage u) {
    if (u == null) {
      return new AnthropicWire.WireUsage(0, 0, 0, 0);
    }
    long input = Math.max(0, u.promptTokens() - u.cacheReadTokens() - u.cacheWriteTokens());
    return new AnthropicWire.WireUsage(input, u.cacheWriteTokens(), u.cacheReadTokens(), u.completionTokens());
  }

  /** A tool call's JSON text as Anthropic's {@code input} object; anything but an object reads as {}. */
  static JsonNode toolInput(String arguments) {
    if (arguments == null || arguments.isBlank()) {
      return JsonNodeFactory.instance.objectNode();
    }
    try {
      JsonNode n = JSON.readTree(arguments);
      return n != null && n.isObject() ? n : JsonNodeFactory.instance.objectNode();
    } catch (IOException e) {
      return JsonNodeFactory.instance.objectNode();
    }
  }

  /** A JSON value as compact text ({} for a missing one), as a tool call's arguments are carried. */
  static String toJsonText(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return "{}";
    }
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a parsed tree always serialises", e);
    }
  }

  static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  static byte[] write(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the wire records always serialise", e);
    }
  }

  /** A fresh id in Anthropic's style ({@code msg_}, {@code toolu_} and 24 base-62 characters). */
  static String newId(String prefix) {
    StringBuilder b = new StringBuilder(prefix.length() + 24).append(prefix);
    for (int i = 0; i < 24; i++) {
      b.append(ID_CHARS[RANDOM.nextInt(ID_CHARS.length)]);
    }
    return b.toString();
  }

  static ObjectNode emptyObject() {
    return JsonNodeFactory.instance.objectNode();
  }
}
