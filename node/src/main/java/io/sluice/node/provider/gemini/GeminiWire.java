package io.sluice.node.provider.gemini;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The Gemini generateContent request as {@link GeminiCodec} writes it (responses are read as
 * trees: they carry many fields Sluice ignores). Component order is the order the fields are
 * written in, which the golden files pin; null components are left out, as the API's own clients
 * leave out unset fields.
 */
final class GeminiWire {
  private GeminiWire() {}

  /** A generateContent (or streamGenerateContent) body. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Request(List<Content> contents, Content systemInstruction, List<WireTool> tools,
      ToolConfig toolConfig, GenerationConfig generationConfig) {}

  /**
   * One turn ({@code role} user or model), or the system instruction (no role).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Content(String role, List<WirePart> parts) {}

  /**
   * One part: exactly one of its data fields is set. {@code thoughtSignature} rides on the part
   * the model returned it with (Gemini 3 refuses a replayed function call without it).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record WirePart(String text, InlineData inlineData, FileData fileData, FunctionCall functionCall,
      FunctionResponse functionResponse, String thoughtSignature) {
    static WirePart text(String text) {
      return new WirePart(text, null, null, null, null, null);
    }

    static WirePart inline(String mimeType, String data) {
      return new WirePart(null, new InlineData(mimeType, data), null, null, null, null);
    }

    static WirePart file(String mimeType, String uri) {
      return new WirePart(null, null, new FileData(mimeType, uri), null, null, null);
    }

    static WirePart call(String name, JsonNode args, String thoughtSignature) {
      return new WirePart(null, null, null, new FunctionCall(name, args), null, thoughtSignature);
    }

    static WirePart response(String name, JsonNode response) {
      return new WirePart(null, null, null, null, new FunctionResponse(name, response), null);
    }
  }

  /** Bytes inline, base64. */
  record InlineData(String mimeType, String data) {}

  /** Bytes by URI; Gemini infers the type when {@code mimeType} is absent. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record FileData(String mimeType, String fileUri) {}

  /** The model calling a function; {@code args} is an object. */
  record FunctionCall(String name, JsonNode args) {}

  /** A function's answer; {@code response} is an object. */
  record FunctionResponse(String name, JsonNode response) {}

  /** One tool entry holding every function the model may call. */
  record WireTool(List<FunctionDeclaration> functionDeclarations) {}

  /**
   * A function the model may call. Its parameters go as {@code parametersJsonSchema}, which takes
   * JSON Schema as OpenAI and Anthropic clients write it ({@code parameters} takes only Google's
   * OpenAPI subset and refuses keywords such as {@code additionalProperties}).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record FunctionDeclaration(String name, String description, JsonNode parametersJsonSchema) {}

  /** How function calling is constrained. */
  record ToolConfig(FunctionCallingConfig functionCallingConfig) {}

  /** {@code mode} AUTO, ANY or NONE; {@code allowedFunctionNames} only with ANY. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record FunctionCallingConfig(String mode, List<String> allowedFunctionNames) {}

  /** The sampling controls Sluice translates. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record GenerationConfig(List<String> stopSequences, Double temperature, Double topP, Long maxOutputTokens) {
    boolean isEmpty() {
      return stopSequences == null && temperature == null && topP == null && maxOutputTokens == null;
    }
  }
}
