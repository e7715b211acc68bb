package io.sluice.node.inference.chat;

/**
 * Whether and which tool the model must call.
 *
 * @param name the tool, for {@link Mode#NAMED} only
 */
public record ToolChoice(Mode mode, String name) {
  public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
  public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
  public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);

  public static ToolChoice named(String name) {
    return new ToolChoice(Mode.NAMED, name);
  }

  /** AUTO: the model decides; NONE: no call; REQUIRED: some call; NAMED: that tool. */
  public enum Mode { AUTO, NONE, REQUIRED, NAMED }
}
