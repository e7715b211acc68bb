package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The Anthropic Messages API's JSON shapes as {@link AnthropicCodec} writes them. Component order
 * is the order the fields are written in (the golden files pin it); null components are left out
 * except where the API always sends the field (a response's {@code stop_sequence}, a stream's
 * {@code stop_reason}), which carry {@link JsonInclude.Include#ALWAYS}.
 */
final class AnthropicWire {
  private AnthropicWire() {}

  /** A Messages request, as Sluice sends it upstream. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Request(String model, @JsonProperty("max_tokens") long maxTokens, Object system,
      List<WireMessage> messages, List<WireTool> tools, @JsonProperty("tool_choice") WireToolChoice toolChoice,
      Double temperature, @JsonProperty("top_p") Double topP,
      @JsonProperty("stop_sequences") List<String> stopSequences, Boolean stream) {}

  /** One turn; content is a string when the turn is one text, else blocks. */
  record WireMessage(String role, Object content) {}

  /** A content block of a request or a response. */
  sealed interface Block permits TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock {}

  record TextBlock(String type, String text) implements Block {
    TextBlock(String text) {
      this("text", text);
    }
  }

  record ImageBlock(String type, Object source) implements Block {
    ImageBlock(Object source) {
      this("image", source);
    }
  }

  record Base64Source(String type, @JsonProperty("media_type") String mediaType, String data) {
    Base64Source(String mediaType, String data) {
      this("base64", mediaType, data);
    }
  }

  record UrlSource(String type, String url) {
    UrlSource(String url) {
      this("url", url);
    }
  }

  record ToolUseBlock(String type, String id, String name, JsonNode input) implements Block {
    ToolUseBlock(String id, String name, JsonNode input) {
      this("tool_use", id, name, input);
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ToolResultBlock(String type, @JsonProperty("tool_use_id") String toolUseId, String content,
      @JsonProperty("is_error") Boolean isError) implements Block {
    ToolResultBlock(String toolUseId, String content, boolean isError) {
      this("tool_result", toolUseId, content, isError ? Boolean.TRUE : null);
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record WireTool(String name, String description, @JsonProperty("input_schema") JsonNode inputSchema) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record WireToolChoice(String type, String name) {}

  /** A whole response (also the {@code message} of a stream's {@code message_start}). */
  record Response(String id, String type, String role, String model, List<Block> content,
      @JsonProperty("stop_reason") String stopReason, @JsonProperty("stop_sequence") String stopSequence,
      WireUsage usage) {}

  record WireUsage(@JsonProperty("input_tokens") long inputTokens,
      @JsonProperty("cache_creation_input_tokens") long cacheCreationInputTokens,
      @JsonProperty("cache_read_input_tokens") long cacheReadInputTokens,
      @JsonProperty("output_tokens") long outputTokens) {}

  // Stream events, in the order a stream carries them.

  record MessageStart(String type, Response message) {
    MessageStart(Response message) {
      this("message_start", message);
    }
  }

  record ContentBlockStart(String type, int index, @JsonProperty("content_block") Block contentBlock) {
    ContentBlockStart(int index, Block contentBlock) {
      this("content_block_start", index, contentBlock);
    }
  }

  record ContentBlockDelta(String type, int index, Object delta) {
    ContentBlockDelta(int index, Object delta) {
      this("content_block_delta", index, delta);
    }
  }

  record TextDelta(String type, String text) {
    TextDelta(String text) {
      this("text_delta", text);
    }
  }

  record InputJsonDelta(String type, @JsonProperty("partial_json") String partialJson) {
    InputJsonDelta(String partialJson) {
      this("input_json_delta", partialJson);
    }
  }

  record ContentBlockStop(String type, int index) {
    ContentBlockStop(int index) {
      this("content_block_stop", index);
    }
  }

  record MessageDelta(String type, StopDelta delta, WireUsage usage) {
    MessageDelta(StopDelta delta, WireUsage usage) {
      this("message_delta", delta, usage);
    }
  }

  record StopDelta(@JsonProperty("stop_reason") String stopReason,
      @JsonProperty("stop_sequence") String stopSequence) {}

  record MessageStop(String type) {
    MessageStop() {
      this("message_stop");
    }
  }

  record ErrorEvent(String type, ErrorBody error) {
    ErrorEvent(ErrorBody error) {
      this("error", error);
    }
  }

  record ErrorBody(String type, String message) {}
}
