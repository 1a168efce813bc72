package io.arbiter.adapters.list;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Regex entries: {@link java.util.regex.Pattern} syntax (not RE2, which Mixer used), each compiled
 * once per load and matched against the whole value ({@link java.util.regex.Matcher#matches()}), as
 * if anchored with {@code ^...$}; write {@code .*foo.*} to find {@code foo} anywhere.
 *
 * <p>Java regexes backtrack, so a pattern like {@code (a+)+b} takes exponential time on some
 * inputs. Two bounds keep a check's cost finite whatever the pattern and the value: a value longer
 * than {@link #MAX_INPUT_LENGTH} characters is not matched at all ({@link Lookup#TOO_LONG}), and
 * each pattern may read at most {@link #STEPS_PER_PATTERN} characters of the value before it gives
 * up ({@link Lookup#TOO_COMPLEX} if no other pattern matched). Both outcomes deny in whitelist and
 * blacklist mode alike, so an attacker cannot slip past a blacklist by sending a huge or
 * pathological value.
 */
final class RegexIndex implements EntryIndex {

  /** The longest value matched against the regexes, in chars. */
  static final int MAX_INPUT_LENGTH = 4096;

  /** How many characters one pattern may read while matching one value. */
  static final long STEPS_PER_PATTERN = 1_000_000;

  private final Pattern[] patterns;

  private RegexIndex(Pattern[] patterns) {
    this.patterns = patterns;
  }

  static RegexIndex of(List<Entry> entries) throws InvalidEntryException {
    List<Pattern> compiled = new ArrayList<>(entries.size());
    Set<String> seen = new HashSet<>();
    for (Entry e : entries) {
      try {
        Pattern p = Pattern.compile(e.text());
        if (seen.add(e.text())) {
          compiled.add(p);
        }
      } catch (PatternSyntaxException x) {
        throw new InvalidEntryException(
            e,
            "invalid regex '"
                + e.text()
                + "': "
                + x.getDescription()
                + " near index "
                + x.getIndex());
      }
    }
    return new RegexIndex(compiled.toArray(new Pattern[0]));
  }

  @Override
  public Lookup lookup(String value) {
    if (value.length() > MAX_INPUT_LENGTH) {
      return Lookup.TOO_LONG;
    }
    BudgetedText text = new BudgetedText(value);
    boolean gaveUp = false;
    for (Pattern p : patterns) {
      text.budget = STEPS_PER_PATTERN;
      try {
        if (p.matcher(text).matches()) {
          return Lookup.FOUND;
        }
      } catch (BudgetExceeded e) {
        gaveUp = true;
      }
    }
    return gaveUp ? Lookup.TOO_COMPLEX : Lookup.ABSENT;
  }

  @Override
  public int size() {
    return patterns.length;
  }

  /** Thrown by {@link BudgetedText#charAt} once the budget is spent; shared, without a trace. */
  private static final class BudgetExceeded extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final BudgetExceeded INSTANCE = new BudgetExceeded();

    private BudgetExceeded() {
      super("regex matching budget exceeded", null, false, false);
    }
  }

  /**
   * A string that counts the characters a matcher reads and stops it when the budget is spent.
   * Confined to one lookup on one thread; views from {@link #subSequence} share its budget.
   */
  private static final class BudgetedText implements CharSequence {
    private final String text;
    private final int offset;
    private final int length;
    private final BudgetedText root;
    private long budget;

    BudgetedText(String text) {
      this(text, 0, text.length(), null);
    }

    private BudgetedText(String text, int offset, int length, BudgetedText root) {
      this.text = text;
      this.offset = offset;
      this.length = length;
      this.root = root == null ? this : root;
    }

    @Override
    public char charAt(int index) {
      if (--root.budget < 0) {
        throw BudgetExceeded.INSTANCE;
      }
      if (index < 0 || index >= length) {
        throw new IndexOutOfBoundsException(index);
      }
      return text.charAt(offset + index);
    }

    @Override
    public int length() {
      return length;
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      if (start < 0 || end > length || start > end) {
        throw new IndexOutOfBoundsException("[" + start + ", " + end + ") of " + length);
      }
      return new BudgetedText(text, offset + start, end - start, root);
    }

    @Override
    public String toString() {
      return text.substring(offset, offset + length);
    }
  }
}
