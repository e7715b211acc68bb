package io.sluice.node.provider.gemini;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.UpstreamError;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.util.ByteString;

/**
 * Google's Gemini generateContent protocol, from Sluice's side only (no client speaks it): the
 * neutral request as a Gemini body, a Gemini response or SSE stream in neutral terms, its usage
 * and its error envelope, as pure functions over bytes. It exists so that the Gemini wire shapes
 * stay private to this package and the adapter only decides URLs and credentials.
 *
 * <p>Gemini has no tool-call ids, so Sluice makes them up ({@link ToolIds}); the id also carries
 * the call's thought signature, which Gemini 3 requires back when the call is replayed.
 */
public final class GeminiCodec {
  /** Thread-safe once configured; writes emoji as UTF-8 rather than escaped surrogate pairs. */
  static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build());

  private GeminiCodec() {}

  /** The neutral request as a generateContent body (the model and streaming are in the URL). */
  public static byte[] encodeRequest(ChatRequest r) throws InvalidChat {
    return write(GeminiRequestEncoder.encode(r));
  }

  /** A whole generateContent response in neutral form. */
  public static ChatResponse decodeResponse(byte[] body) throws InvalidChat {
    return decodeResponse(body, ToolIds::newId);
  }

  static ChatResponse decodeResponse(byte[] body, Supplier<String> ids) throws InvalidChat {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new InvalidChat("The upstream response is not valid JSON.", null);
    }
    if (root == null || !root.isObject() || (!root.has("candidates") && !root.has("promptFeedback"))) {
      throw new InvalidChat("The upstream response is not a Gemini GenerateContentResponse.", "candidates");
    }
    JsonNode candidate = root.path("candidates").path(0);
    List<Part> content = new ArrayList<>();
    for (JsonNode part : candidate.path("content").path("parts")) {
      if (part.path("thought").asBoolean(false)) {
        continue; // a thought summary is not the answer
      }
      if (part.has("functionCall")) {
        content.add(toolCall(part, ids));
      } else if (part.hasNonNull("text")) {
        content.add(new Part.Text(part.get("text").asText()));
      } // inlineData output (images), executableCode and the like have no neutral form
    }
    boolean calls = content.stream().anyMatch(p -> p instanceof Part.ToolCall);
    FinishReason reason = candidate.isMissingNode()
        ? blocked(root) : finishReason(text(candidate, "finishReason"), calls);
    return new ChatResponse(text(root, "responseId"), text(root, "modelVersion"), content, reason,
        usageOf(root.get("usageMetadata")));
  }

  /** A decoder of a {@code streamGenerateContent?alt=sse} body into neutral events; one per stream. */
  public static StreamDecoder streamDecoder() {
    return new GeminiStreamDecoder(ToolIds::newId);
  }

  /** The usage of a whole response, or null when it carries none. */
  public static Usage usage(byte[] body) {
    try {
      JsonNode root = JSON.readTree(body);
      return root == null ? null : usageOf(root.get("usageMetadata"));
    } catch (IOException e) {
      return null;
    }
  }

  /** An upstream's error answer, read from Google's envelope, classified and redacted. */
  public static UpstreamError error(int status, ByteString body) {
    return GeminiErrors.parse(status, body);
  }

  // Shared by the package's translators.

  /**
   * A functionCall part as a neutral call with a fresh id of Sluice's, carrying the part's thought
   * signature (an id Gemini may set is ignored: Sluice's must be recognisable when it comes back).
   */
  static Part.ToolCall toolCall(JsonNode part, Supplier<String> ids) {
    JsonNode call = part.get("functionCall");
    return new Part.ToolCall(ToolIds.withSignature(ids.get(), text(part, "thoughtSignature")), text(call, "name"),
        toJsonText(call.get("args")));
  }

  /**
   * Gemini's finish reason in neutral terms. A natural stop with function calls in the answer is
   * TOOL_CALLS (Gemini says STOP). The safety family and recitation are CONTENT_FILTER; anything
   * else Gemini may say (OTHER, MALFORMED_FUNCTION_CALL, a newer reason) reads as a stop.
   */
  static FinishReason finishReason(String reason, boolean calls) {
    if (reason == null) {
      return calls ? FinishReason.TOOL_CALLS : null;
    }
    return switch (reason) {
      case "MAX_TOKENS" -> FinishReason.LENGTH;
      case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
          "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR" -> FinishReason.CONTENT_FILTER;
      default -> calls ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    };
  }

  /** A response without candidates: the prompt was blocked when promptFeedback says so. */
  static FinishReason blocked(JsonNode root) {
    return root.path("promptFeedback").hasNonNull("blockReason") ? FinishReason.CONTENT_FILTER : null;
  }

  /**
   * Gemini's usageMetadata in neutral terms: the prompt count (cached tokens included, as Gemini
   * counts them), candidates plus thoughts as completion, and the cached part as cache reads.
   * Null when absent or without any count.
   */
  static Usage usageOf(JsonNode u) {
    if (u == null || !u.isObject()
        || (!u.has("promptTokenCount") && !u.has("candidatesTokenCount") && !u.has("thoughtsTokenCount"))) {
      return null;
    }
    return new Usage(u.path("promptTokenCount").asLong(0),
        u.path("candidatesTokenCount").asLong(0) + u.path("thoughtsTokenCount").asLong(0),
        u.path("cachedContentTokenCount").asLong(0), 0);
  }

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
    JsonNode v = n == null ? null : n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  static byte[] write(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the wire records always serialise", e);
    }
  }
}
