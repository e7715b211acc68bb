package io.sluice.node.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class AnthropicRequestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ChatRequest decode(String json) throws InvalidChat {
    return AnthropicCodec.decodeRequest(json.replace('\'', '"').getBytes(StandardCharsets.UTF_8));
  }

  private static JsonNode encode(ChatRequest r, long defaultMax) throws Exception {
    return JSON.readTree(AnthropicCodec.encodeRequest(r, defaultMax));
  }

  private static ChatRequest request(List<Part> system, List<Message> messages, List<Tool> tools, ToolChoice choice,
      long maxTokens, boolean stream) {
    return new ChatRequest("claude-x", system, messages, tools, choice, maxTokens, null, null, List.of(), stream, stream);
  }

  private static Message user(Part... parts) {
    return new Message(Message.Role.USER, List.of(parts));
  }

  private static Message assistant(Part... parts) {
    return new Message(Message.Role.ASSISTANT, List.of(parts));
  }

  @Test
  void decodeRequest_systemString_liftsToOneSystemPart() throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'system':'Be kind.','messages':[]}");
    assertEquals(List.of(new Part.Text("Be kind.")), r.system());
    assertEquals(5, r.maxTokens());
    assertEquals("m", r.model());
  }

  @Test
  void decodeRequest_systemTextBlocks_keepsEachBlock() throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'system':[{'type':'text','text':'A'},"
        + "{'type':'text','text':'B','cache_control':{'type':'ephemeral'}}],'messages':[]}");
    assertEquals(List.of(new Part.Text("A"), new Part.Text("B")), r.system());
  }

  @Test
  void decodeRequest_blocksOfEveryKind_mapToParts() throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'messages':["
        + "{'role':'user','content':[{'type':'text','text':'hi'},"
        + "{'type':'image','source':{'type':'base64','media_type':'image/png','data':'AAAA'}},"
        + "{'type':'image','source':{'type':'url','url':'https://x/y.png'}}]},"
        + "{'role':'assistant','content':[{'type':'thinking','thinking':'t','signature':'s'},"
        + "{'type':'redacted_thinking','data':'d'},"
        + "{'type':'tool_use','id':'toolu_1','name':'f','input':{'a':[1,{'b':null}]}}]},"
        + "{'role':'user','content':[{'type':'tool_result','tool_use_id':'toolu_1','content':'ok'},"
        + "{'type':'tool_result','tool_use_id':'toolu_2','content':[{'type':'text','text':'x'},"
        + "{'type':'text','text':'y'}],'is_error':true},{'type':'tool_result','tool_use_id':'toolu_3'}]}]}");
    assertEquals(List.of(
        user(new Part.Text("hi"), Part.Image.inline("image/png", "AAAA"), Part.Image.ofUrl("https://x/y.png")),
        assistant(new Part.ToolCall("toolu_1", "f", "{\"a\":[1,{\"b\":null}]}")),
        user(new Part.ToolResult("toolu_1", null, "ok", false), new Part.ToolResult("toolu_2", null, "x\ny", true),
            new Part.ToolResult("toolu_3", null, "", false))), r.messages());
  }

  @Test
  void decodeRequest_toolUseWithoutInput_hasEmptyObjectArguments() throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'messages':[{'role':'assistant','content':"
        + "[{'type':'tool_use','id':'t','name':'f'}]}]}");
    assertEquals(new Part.ToolCall("t", "f", "{}"), r.messages().get(0).content().get(0));
  }

  @Test
  void decodeRequest_samplingAndStream_areRead() throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'messages':[],'temperature':0.5,'top_p':1,"
        + "'stop_sequences':['a','b'],'stream':true,'top_k':3,'metadata':{'user_id':'u'}}");
    assertEquals(0.5, r.temperature());
    assertEquals(1.0, r.topP());
    assertEquals(List.of("a", "b"), r.stop());
    assertTrue(r.stream());
    assertTrue(r.includeUsage(), "an Anthropic stream always reports usage");
  }

  @Test
  void decodeRequest_absentOptionals_areNullOrEmpty() throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'messages':[]}");
    assertNull(r.temperature());
    assertNull(r.topP());
    assertNull(r.toolChoice());
    assertTrue(r.stop().isEmpty() && r.tools().isEmpty() && r.system().isEmpty());
    assertFalse(r.stream());
  }

  @Test
  void decodeRequest_tools_mapNameDescriptionSchema() throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'messages':[],'tools':[{'name':'f','description':'d',"
        + "'input_schema':{'type':'object'}},{'type':'custom','name':'g','input_schema':{'type':'object'}}]}");
    assertEquals(List.of(new Tool("f", "d", JSON.readTree("{\"type\":\"object\"}")),
        new Tool("g", null, JSON.readTree("{\"type\":\"object\"}"))), r.tools());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "{'type':'auto'}| AUTO|",
      "{'type':'any'}| REQUIRED|",
      "{'type':'none'}| NONE|",
      "{'type':'tool','name':'f'}| NAMED| f",
      "{'type':'auto','disable_parallel_tool_use':true}| AUTO|"})
  void decodeRequest_toolChoice_mapsToMode(String choice, ToolChoice.Mode mode, String name) throws Exception {
    ChatRequest r = decode("{'model':'m','max_tokens':5,'messages':[],'tool_choice':" + choice + "}");
    assertEquals(new ToolChoice(mode, name), r.toolChoice());
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("[]", null, "must be a JSON object"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[]", null, "not valid JSON"),
        Arguments.of("{'model':'m','model':'n','max_tokens':5,'messages':[]}", null, "repeats a key: Duplicate field 'model'"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','role':'user','content':'x'}]}", null,
            "Duplicate field 'role'"),
        Arguments.of("", null, "must be a JSON object"),
        Arguments.of("{'max_tokens':5,'messages':[]}", "model", "model: Field required"),
        Arguments.of("{'model':7,'max_tokens':5,'messages':[]}", "model", "valid string"),
        Arguments.of("{'model':'m','messages':[]}", "max_tokens", "max_tokens: Field required"),
        Arguments.of("{'model':'m','max_tokens':null,'messages':[]}", "max_tokens", "max_tokens: Field required"),
        Arguments.of("{'model':'m','max_tokens':'5','messages':[]}", "max_tokens", "valid integer"),
        Arguments.of("{'model':'m','max_tokens':1.5,'messages':[]}", "max_tokens", "valid integer"),
        Arguments.of("{'model':'m','max_tokens':0,'messages':[]}", "max_tokens", "from 1"),
        Arguments.of("{'model':'m','max_tokens':100000001,'messages':[]}", "max_tokens", "from 1"),
        Arguments.of("{'model':'m','max_tokens':5}", "messages", "messages: Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':{}}", "messages", "valid list"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':['x']}", "messages.0", "dictionary"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'content':'x'}]}", "messages.0.role", "Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'system','content':'x'}]}", "messages.0.role",
            "'user' or 'assistant'"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user'}]}", "messages.0.content", "Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':3}]}", "messages.0.content",
            "valid string or a list"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'text'}]}]}",
            "messages.0.content.0.text", "Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'document'}]}]}",
            "messages.0.content.0.type", "'document'"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'image',"
            + "'source':{'type':'file','file_id':'f'}}]}]}", "messages.0.content.0.source.type", "'base64' or 'url'"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'image'}]}]}",
            "messages.0.content.0.source", "Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'tool_use',"
            + "'id':'t','name':'f','input':{}}]}]}", "messages.0.content.0.type", "assistant turns"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'assistant','content':[{'type':'tool_use',"
            + "'id':'t','name':'f','input':[]}]}]}", "messages.0.content.0.input", "dictionary"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'assistant','content':[{'type':'tool_result',"
            + "'tool_use_id':'t'}]}]}", "messages.0.content.0.type", "user turns"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'tool_result',"
            + "'tool_use_id':'t','content':[{'type':'image','source':{}}]}]}]}", "messages.0.content.0.content.0.type",
            "only text"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'tool_result',"
            + "'tool_use_id':'t','is_error':'yes'}]}]}", "messages.0.content.0.is_error", "valid boolean"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'system':5}", "system", "valid string"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'system':[{'type':'image'}]}", "system.0.type",
            "'text'"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tools':{}}", "tools", "valid list"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tools':[{'name':'f'}]}", "tools.0.input_schema",
            "Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tools':[{'name':'f','input_schema':[]}]}",
            "tools.0.input_schema", "dictionary"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tools':[{'input_schema':{}}]}", "tools.0.name",
            "Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tools':[{'type':'web_search_20250305',"
            + "'name':'web_search'}]}", "tools.0.type", "web_search_20250305"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tool_choice':'auto'}", "tool_choice", "dictionary"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tool_choice':{'type':'some'}}", "tool_choice.type",
            "'auto', 'any'"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'tool_choice':{'type':'tool'}}", "tool_choice.name",
            "Field required"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'temperature':'hot'}", "temperature", "valid number"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'top_p':true}", "top_p", "valid number"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'stop_sequences':'x'}", "stop_sequences", "valid list"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'stop_sequences':[1]}", "stop_sequences.0",
            "valid string"),
        Arguments.of("{'model':'m','max_tokens':5,'messages':[],'stream':'yes'}", "stream", "valid boolean"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void decodeRequest_malformed_refusedWithParamPath(String body, String param, String wording) {
    InvalidChat e = assertThrows(InvalidChat.class, () -> decode(body));
    assertEquals(param, e.param());
    assertTrue(e.getMessage().contains(wording), e.getMessage());
  }

  @Test
  void encodeRequest_maxTokensAbsent_usesDefault() throws Exception {
    assertEquals(777, encode(request(List.of(), List.of(user(new Part.Text("x"))), List.of(), null, -1, false), 777)
        .path("max_tokens").asLong());
    assertEquals(9, encode(request(List.of(), List.of(user(new Part.Text("x"))), List.of(), null, 9, false), 777)
        .path("max_tokens").asLong());
  }

  @Test
  void encodeRequest_systemEmptyOrBlank_isOmitted() throws Exception {
    assertFalse(encode(request(List.of(), List.of(), List.of(), null, 1, false), 1).has("system"));
    assertFalse(encode(request(List.of(new Part.Text("")), List.of(), List.of(), null, 1, false), 1).has("system"));
  }

  @Test
  void encodeRequest_sameRoleTurns_areMergedToAlternate() throws Exception {
    JsonNode body = encode(request(List.of(), List.of(user(new Part.Text("a")), user(new Part.Text("b")),
        assistant(new Part.Text("c")), assistant(new Part.ToolCall("t1", "f", "{}")),
        user(new Part.ToolResult("t1", "f", "r", false)), user(new Part.Text("d"))), List.of(), null, 1, false), 1);
    JsonNode m = body.path("messages");
    assertEquals(3, m.size());
    assertEquals("user", m.get(0).path("role").asText());
    assertEquals(2, m.get(0).path("content").size());
    assertEquals("assistant", m.get(1).path("role").asText());
    assertEquals("tool_use", m.get(1).path("content").get(1).path("type").asText());
    assertEquals("user", m.get(2).path("role").asText());
  }

  @Test
  void encodeRequest_toolResultsAfterText_areMovedFirst() throws Exception {
    JsonNode content = encode(request(List.of(), List.of(user(new Part.Text("see"),
        new Part.ToolResult("t1", null, "r1", false), new Part.ToolResult("t2", null, "r2", true))),
        List.of(), null, 1, false), 1).path("messages").get(0).path("content");
    assertEquals("t1", content.get(0).path("tool_use_id").asText());
    assertEquals("t2", content.get(1).path("tool_use_id").asText());
    assertTrue(content.get(1).path("is_error").asBoolean());
    assertFalse(content.get(0).has("is_error"));
    assertEquals("see", content.get(2).path("text").asText());
  }

  @Test
  void encodeRequest_emptyTurnsAndTexts_areDropped() throws Exception {
    JsonNode m = encode(request(List.of(), List.of(user(new Part.Text("q")), assistant(new Part.Text("")),
        assistant(), user(new Part.Text("r"))), List.of(), null, 1, false), 1).path("messages");
    assertEquals(1, m.size(), "the empty assistant turns vanish and the user turns merge");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"a\":1}|{\"a\":1}",
      "{\"a\":|{}",
      "[1,2]|{}",
      "''|{}",
      "null|{}"})
  void encodeRequest_toolCallArguments_parsedIntoInputObject(String arguments, String input) throws Exception {
    String args = arguments.equals("null") ? null : arguments.equals("''") ? "" : arguments;
    JsonNode block = encode(request(List.of(), List.of(assistant(new Part.ToolCall("t", "f", args))), List.of(), null,
        1, false), 1).path("messages").get(0).path("content").get(0);
    assertEquals(JSON.readTree(input), block.path("input"));
  }

  @ParameterizedTest
  @CsvSource({"AUTO,auto,", "REQUIRED,any,", "NONE,none,", "NAMED,tool,f"})
  void encodeRequest_toolChoice_mapsToType(ToolChoice.Mode mode, String type, String name) throws Exception {
    JsonNode c = encode(request(List.of(), List.of(), List.of(new Tool("f", null, null)),
        new ToolChoice(mode, name), 1, false), 1).path("tool_choice");
    assertEquals(type, c.path("type").asText());
    assertEquals(name == null ? null : name, c.has("name") ? c.path("name").asText() : null);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "data:image/png;base64,iVBORw0KGgo=|{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}",
      "https://x/y.jpg|{\"type\":\"url\",\"url\":\"https://x/y.jpg\"}",
      "data:text/plain,hello|{\"type\":\"url\",\"url\":\"data:text/plain,hello\"}"})
  void encodeRequest_imageUrl_mapsToSource(String url, String source) throws Exception {
    JsonNode block = encode(request(List.of(), List.of(user(Part.Image.ofUrl(url))), List.of(), null, 1, false), 1)
        .path("messages").get(0).path("content").get(0);
    assertEquals("image", block.path("type").asText());
    assertEquals(JSON.readTree(source), block.path("source"));
  }

  @Test
  void encodeRequest_inlineImage_isBase64Source() throws Exception {
    JsonNode block = encode(request(List.of(), List.of(user(Part.Image.inline("image/gif", "R0lG"))), List.of(), null,
        1, false), 1).path("messages").get(0).path("content").get(0);
    assertEquals(JSON.readTree("{\"type\":\"base64\",\"media_type\":\"image/gif\",\"data\":\"R0lG\"}"),
        block.path("source"));
  }

  @Test
  void encodeRequest_toolChoiceWithoutTools_isOmitted() throws Exception {
    JsonNode body = encode(request(List.of(), List.of(), List.of(), ToolChoice.REQUIRED, 1, false), 1);
    assertFalse(body.has("tool_choice"));
    assertFalse(body.has("tools"));
  }

  @Test
  void encodeRequest_toolWithoutParameters_getsEmptyObjectSchema() throws Exception {
    JsonNode tool = encode(request(List.of(), List.of(), List.of(new Tool("f", null, null)), null, 1, false), 1)
        .path("tools").get(0);
    assertEquals(JSON.readTree("{\"name\":\"f\",\"input_schema\":{\"type\":\"object\",\"properties\":{}}}"), tool);
  }

  @Test
  void encodeRequest_streamAndStop_writtenOnlyWhenSet() throws Exception {
    ChatRequest off = request(List.of(), List.of(), List.of(), null, 1, false);
    assertFalse(encode(off, 1).has("stream"));
    assertFalse(encode(off, 1).has("stop_sequences"));
    ChatRequest on = new ChatRequest("m", List.of(), List.of(), List.of(), null, 1, 0.0, 0.5, List.of("x"), true,
        false);
    JsonNode body = encode(on, 1);
    assertTrue(body.path("stream").asBoolean());
    assertEquals("[\"x\"]", body.path("stop_sequences").toString());
    assertEquals(0.0, body.path("temperature").asDouble(-1));
    assertEquals(0.5, body.path("top_p").asDouble());
  }

  static Stream<ChatRequest> representative() {
    JsonNode schema;
    try {
      schema = JSON.readTree("{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\"}},\"required\":[\"q\"]}");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return Stream.of(
        request(List.of(), List.of(user(new Part.Text("hi"))), List.of(), null, 10, false),
        new ChatRequest("claude-y", List.of(new Part.Text("sys one"), new Part.Text("sys two")),
            List.of(user(new Part.Text("a"), new Part.Text("b")), assistant(new Part.Text("c"))), List.of(), null, 20,
            0.3, 0.8, List.of("END", "\n\nHuman:"), true, true),
        request(List.of(new Part.Text("tools")), List.of(user(new Part.Text("find q"), Part.Image.ofUrl("https://i/x.png"),
            Part.Image.inline("image/webp", "UklGRg==")),
            assistant(new Part.Text("calling"), new Part.ToolCall("toolu_1", "search", "{\"q\":\"x\"}"),
                new Part.ToolCall("toolu_2", "search", "{\"q\":\"y\",\"n\":[1,2.5,true,null]}")),
            user(new Part.ToolResult("toolu_1", null, "found", false), new Part.ToolResult("toolu_2", null, "", true),
                new Part.Text("and?"))),
            List.of(new Tool("search", "Search things", schema), new Tool("other", null, schema)),
            ToolChoice.named("search"), 4096, true),
        request(List.of(), List.of(user(new Part.Text("x"))), List.of(new Tool("search", null, schema)),
            ToolChoice.NONE, 1, false),
        request(List.of(), List.of(user(new Part.Text("x"))), List.of(new Tool("search", null, schema)),
            ToolChoice.REQUIRED, 1, false),
        request(List.of(), List.of(user(new Part.Text("x"))), List.of(new Tool("search", "d", schema)),
            ToolChoice.AUTO, 1, false));
  }

  @ParameterizedTest
  @MethodSource("representative")
  void decodeRequest_ofEncodeRequest_preservesRequest(ChatRequest r) throws Exception {
    assertEquals(r, AnthropicCodec.decodeRequest(AnthropicCodec.encodeRequest(r, 1)));
  }
}
