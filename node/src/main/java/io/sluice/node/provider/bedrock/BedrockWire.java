package io.sluice.node.provider.bedrock;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The Bedrock Converse API's request shapes as {@link BedrockCodec} writes them. Converse content
 * blocks are unions: each is an object with exactly one member ({@code text}, {@code image},
 * {@code toolUse}, {@code toolResult}), so each kind is its own record with that one component.
 * Component order is the order the fields are written in (the golden files pin it); null
 * components are left out.
 */
final class BedrockWire {
  private BedrockWire() {}

  /** A Converse (or ConverseStream) request body; the model is in the URL, not here. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Request(List<WireMessage> messages, List<SystemBlock> system, InferenceConfig inferenceConfig,
      ToolConfig toolConfig) {}

  record SystemBlock(String text) {}

  /** One turn: {@code user} or {@code assistant}; Converse requires them to alternate, starting with user. */
  record WireMessage(String role, List<Block> content) {}

  sealed interface Block permits TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock {}

  record TextBlock(String text) implements Block {}

  record ImageBlock(Image image) implements Block {}

  /** {@code format} is png, jpeg, gif or webp; the bytes are base64 in JSON. */
  record Image(String format, ImageSource source) {}

  record ImageSource(String bytes) {}

  record ToolUseBlock(ToolUse toolUse) implements Block {}

  record ToolUse(String toolUseId, String name, JsonNode input) {}

  record ToolResultBlock(ToolResult toolResult) implements Block {}

  /** {@code status} is {@code error} for a failed tool, else absent (success). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ToolResult(String toolUseId, List<TextBlock> content, String status) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record InferenceConfig(Long maxTokens, Double temperature, Double topP, List<String> stopSequences) {}

  /** {@code toolChoice} is one of {@code {"auto":{}}}, {@code {"any":{}}} or {@code {"tool":{"name"}}}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ToolConfig(List<WireTool> tools, Map<String, Object> toolChoice) {}

  record WireTool(ToolSpec toolSpec) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ToolSpec(String name, String description, InputSchema inputSchema) {}

  record InputSchema(JsonNode json) {}

  record NamedTool(String name) {}
}
