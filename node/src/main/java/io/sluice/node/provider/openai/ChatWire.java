package io.sluice.node.provider.openai;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Usage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the OpenAI chat codecs share: one mapper (thread-safe once configured), the finish reason
 * and usage vocabularies, and OpenAI-style ids.
 */
final class ChatWire {
  /**
   * Reads trees and writes generators; never reconfigured after this line, so shared freely. A
   * character outside the BMP (an emoji) is written as its four UTF-8 bytes, as OpenAI does,
   * rather than as two escaped surrogates.
   */
  static final ObjectMapper JSON =
      JsonMapper.builder().enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

  private static final char[] ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
  static final String COMPLETION_ID_PREFIX = "chatcmpl-";

  private ChatWire() {}

  /** Writes one JSON document into a byte array. */
  interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // an in-memory stream does not fail
    }
    return out.toByteArray();
  }

  static JsonNode parse(byte[] body) throws InvalidChat {
    try {
      JsonNode root = JSON.readTree(body);
      if (root == null || !root.isObject()) {
        throw new InvalidChat("The body must be a JSON object.", null);
      }
      return root;
    } catch (JsonProcessingException e) {
      throw new InvalidChat("The body is not valid JSON: " + e.getOriginalMessage(), null);
    } catch (IOException e) {
      throw new InvalidChat("The body is not valid JSON.", null);
    }
  }

  /** OpenAI's finish_reason; function_call is the legacy name of tool_calls; null stays null. */
  static FinishReason finishReason(String wire) {
    if (wire == null) {
      return null;
    }
    return switch (wire) {
      case "length" -> FinishReason.LENGTH;
      case "tool_calls", "function_call" -> FinishReason.TOOL_CALLS;
      case "content_filter" -> FinishReason.CONTENT_FILTER;
      // stop, and the other names compatible servers use for a natural end (eos, end_turn, ...)
      default -> FinishReason.STOP;
    };
  }

  static String finishReason(FinishReason reason) {
    if (reason == null) {
      return null;
    }
    return switch (reason) {
      case STOP -> "stop";
      case LENGTH -> "length";
      case TOOL_CALLS -> "tool_calls";
      case CONTENT_FILTER -> "content_filter";
    };
  }

  /** A usage object ({@code prompt_tokens}, ...), or null when {@code node} is not one. */
  static Usage usage(JsonNode node) {
    if (node == null || !node.isObject()) {
      return null;
    }
    long prompt = node.path("prompt_tokens").asLong(0);
    long completion = node.path("completion_tokens").asLong(0);
    long cached = node.path("prompt_tokens_details").path("cached_tokens").asLong(0);
    return new Usage(prompt, completion, cached, 0);
  }

  /** OpenAI's usage object; cache writes have no OpenAI field and are not rendered. */
  static void writeUsage(JsonGenerator g, Usage u) throws IOException {
    g.writeObjectFieldStart("usage");
    g.writeNumberField("prompt_tokens", u.promptTokens());
    g.writeNumberField("completion_tokens", u.completionTokens());
    g.writeNumberField("total_tokens", u.promptTokens() + u.completionTokens());
    if (u.cacheReadTokens() > 0) {
      g.writeObjectFieldStart("prompt_tokens_details");
      g.writeNumberField("cached_tokens", u.cacheReadTokens());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  /**
   * The id a client sees: an OpenAI completion id is kept; another provider's id gets OpenAI's
   * prefix (so it stays traceable); none gets a fresh one.
   */
  static String completionId(String upstream) {
    if (upstream == null || upstream.isEmpty()) {
      return COMPLETION_ID_PREFIX + randomToken(29);
    }
    return upstream.startsWith(COMPLETION_ID_PREFIX) ? upstream : COMPLETION_ID_PREFIX + upstream;
  }

  /**
   * A tool call's id, or a fresh one for a call the upstream gave none (legacy function_call,
   * some compatible servers): unique, because a later turn's tool result names its call by it.
   */
  static String callId(String given) {
    return given == null || given.isEmpty() ? "call_" + randomToken(24) : given;
  }

  static String randomToken(int length) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] token = new char[length];
    for (int i = 0; i < length; i++) {
      token[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return new String(token);
  }

  static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }
}
