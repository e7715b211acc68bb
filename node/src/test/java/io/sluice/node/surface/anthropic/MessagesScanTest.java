package io.sluice.node.surface.anthropic;

import io.sluice.node.inference.TokenCounter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.inference.chat.InvalidChat;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MessagesScanTest {
  /** One token per character: the expected counts can be read off the bodies. */
  private static final TokenCounter CHARS = String::length;

  private static byte[] body(String json) {
    return json.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
  }

  private static MessagesScan scan(String json) throws InvalidChat {
    return MessagesScan.scan(body(json), CHARS);
  }

  @Test
  void scan_fields_found() throws Exception {
    MessagesScan s = scan("{'model':'claude-x','max_tokens':256,'stream':true,'messages':[]}");
    assertEquals("claude-x", s.model());
    assertEquals(256, s.maxTokens());
    assertTrue(s.stream());
    assertEquals(0, s.promptTokens());
  }

  @Test
  void scan_promptTokens_countSystemTextsAndToolResults() throws Exception {
    MessagesScan s = scan("{'model':'m','max_tokens':1,'system':[{'type':'text','text':'abcd'}],"
        + "'tools':[{'name':'ignored','description':'not counted','input_schema':{}}],"
        + "'messages':[{'role':'user','content':'hello'},"
        + "{'role':'assistant','content':[{'type':'text','text':'xy'},{'type':'tool_use','id':'t','name':'f',"
        + "'input':{'text':'not counted'}}]},"
        + "{'role':'user','content':[{'type':'tool_result','tool_use_id':'t','content':'12345'},"
        + "{'type':'tool_result','tool_use_id':'u','content':[{'type':'text','text':'abc'}]},"
        + "{'type':'image','source':{'type':'base64','media_type':'image/png','data':'AAAA'}}]}]}");
    // system 4; messages: 3 x framing + 5 + 2 + 5 + 3
    assertEquals(4 + 3 * MessagesScan.PER_MESSAGE + 5 + 2 + 5 + 3, s.promptTokens());
  }

  @Test
  void scan_systemString_counted() throws Exception {
    assertEquals(3, scan("{'model':'m','max_tokens':1,'system':'abc','messages':[]}").promptTokens());
  }

  @Test
  void scan_noCounter_countsZero() throws Exception {
    assertEquals(0, MessagesScan.scan(body("{'model':'m','max_tokens':1,'system':'abc','messages':"
        + "[{'role':'user','content':'hi'}]}"), RequestScan.NO_COUNT).promptTokens());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "[]|",
      "'text'|",
      "{'model':'m','max_tokens':1,'messages':[]|",
      "{'model':'m','max_tokens':1,'messages':[]} {}|",
      "{'model':'m','model':'n','max_tokens':1,'messages':[]}|",
      "{'model':'m','max_tokens':1,'messages':[{'role':'user','role':'assistant','content':'x'}]}|",
      "{'max_tokens':1,'messages':[]}|model",
      "{'model':'','max_tokens':1,'messages':[]}|model",
      "{'model':3,'max_tokens':1,'messages':[]}|model",
      "{'model':'m','messages':[]}|max_tokens",
      "{'model':'m','max_tokens':null,'messages':[]}|max_tokens",
      "{'model':'m','max_tokens':0,'messages':[]}|max_tokens",
      "{'model':'m','max_tokens':1.5,'messages':[]}|max_tokens",
      "{'model':'m','max_tokens':'1','messages':[]}|max_tokens",
      "{'model':'m','max_tokens':100000001,'messages':[]}|max_tokens",
      "{'model':'m','max_tokens':99999999999999999999999,'messages':[]}|max_tokens",
      "{'model':'m','max_tokens':1}|messages",
      "{'model':'m','max_tokens':1,'messages':{}}|messages",
      "{'model':'m','max_tokens':1,'messages':['x']}|messages.0",
      "{'model':'m','max_tokens':1,'messages':[{'role':'user','content':5}]}|messages.0.content",
      "{'model':'m','max_tokens':1,'system':5,'messages':[]}|system",
      "{'model':'m','max_tokens':1,'stream':'yes','messages':[]}|stream"})
  void scan_invalid_refusedWithParam(String json, String param) {
    InvalidChat e = assertThrows(InvalidChat.class, () -> scan(json));
    assertEquals(param, e.param(), e.getMessage());
  }

  @Test
  void scan_missingMaxTokens_anthropicWording() {
    InvalidChat e = assertThrows(InvalidChat.class, () -> scan("{'model':'m','messages':[]}"));
    assertEquals("max_tokens: Field required", e.getMessage());
  }

  @Test
  void scan_duplicateKey_namesIt() {
    InvalidChat e = assertThrows(InvalidChat.class,
        () -> scan("{'model':'m','max_tokens':1,'messages':[{'role':'user','content':[{'type':'text','text':'a',"
            + "'text':'b'}]}]}"));
    assertTrue(e.getMessage().contains("Duplicate field 'text'"), e.getMessage());
  }

  @Test
  void scanCountTokens_noMaxTokens_accepted() throws Exception {
    MessagesScan s = MessagesScan.scanCountTokens(body("{'model':'m','messages':[{'role':'user','content':'abc'}]}"),
        CHARS);
    assertEquals(-1, s.maxTokens());
    assertEquals(3 + MessagesScan.PER_MESSAGE, s.promptTokens());
  }

  @Test
  void withModel_otherName_replacesOnlyTheValue() throws Exception {
    String json = "{ \"max_tokens\": 1, \"model\" : \"alias\", \"messages\": [], \"metadata\": {\"model\": \"alias\"} }";
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    byte[] out = MessagesScan.scan(b, CHARS).withModel(b, "claude-\"quoted\"-é");
    assertEquals(json.replaceFirst("\"alias\"", "\"claude-\\\\\"quoted\\\\\"-é\""), new String(out, StandardCharsets.UTF_8));
    assertEquals("claude-\"quoted\"-é", new ObjectMapper().readTree(out).path("model").asText());
  }

  @Test
  void withModel_nonAsciiBeforeModel_offsetsAreBytes() throws Exception {
    byte[] b = "{\"system\":\"héllo wörld 🌍\",\"max_tokens\":1,\"model\":\"a\",\"messages\":[]}"
        .getBytes(StandardCharsets.UTF_8);
    byte[] out = MessagesScan.scan(b, CHARS).withModel(b, "bb");
    assertEquals("{\"system\":\"héllo wörld 🌍\",\"max_tokens\":1,\"model\":\"bb\",\"messages\":[]}",
        new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void withModel_sameName_returnsTheBodyItself() throws Exception {
    byte[] b = body("{'model':'m','max_tokens':1,'messages':[]}");
    assertSame(b, MessagesScan.scan(b, CHARS).withModel(b, "m"));
  }

  @Test
  void scan_streamFalseOrNull_notStreaming() throws Exception {
    assertFalse(scan("{'model':'m','max_tokens':1,'messages':[],'stream':false}").stream());
    assertFalse(scan("{'model':'m','max_tokens':1,'messages':[],'stream':null}").stream());
  }
}
