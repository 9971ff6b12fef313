package conformance.interop;

import com.helger.base.state.EContinue;
import com.helger.schematron.pure.model.PSAssertReport;
import com.helger.schematron.pure.model.PSPattern;
import com.helger.schematron.pure.model.PSPhase;
import com.helger.schematron.pure.model.PSRule;
import com.helger.schematron.pure.model.PSSchema;
import com.helger.schematron.pure.validation.IPSValidationHandler;
import com.helger.schematron.pure.validation.SchematronValidationException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * ISO Schematron's rule selection on top of ph-schematron-pure.
 *
 * <p>In a pattern, a node is checked by the first rule whose context matches it only (ISO/IEC
 * 19757-3, "rule": later rules of the same pattern do not fire for that node; XSLT compilers get
 * this from template priorities). ph-schematron-pure 9.0.0 evaluates every rule's context on its
 * own, so e.g. CEN's header rule {@code cac:InvoicePeriod} (BR-29, BR-CO-19) also checks the line
 * periods that an earlier rule of the same pattern already took. This handler passes everything
 * to the SVRL handler except the asserts and reports of a rule for nodes that an earlier rule of
 * the current pattern matched, and counts what it held back.
 */
final class FirstMatchHandler implements IPSValidationHandler {
  private final IPSValidationHandler delegate;
  private final Set<Node> matchedInPattern = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Set<Node> takenEarlier = Collections.newSetFromMap(new IdentityHashMap<>());
  int heldBack;

  FirstMatchHandler(IPSValidationHandler delegate) {
    this.delegate = delegate;
  }

  @Override
  public void onStart(PSSchema schema, PSPhase phase, String baseUri)
      throws SchematronValidationException {
    delegate.onStart(schema, phase, baseUri);
  }

  @Override
  public void onPattern(PSPattern pattern) throws SchematronValidationException {
    matchedInPattern.clear();
    delegate.onPattern(pattern);
  }

  @Override
  public void onRuleStart(PSRule rule, NodeList nodes) throws SchematronValidationException {
    takenEarlier.clear();
    for (int i = 0; i < nodes.getLength(); i++) {
      Node node = nodes.item(i);
      if (!matchedInPattern.add(node)) {
        takenEarlier.add(node);
      }
    }
    delegate.onRuleStart(rule, nodes);
  }

  @Override
  public void onFiredRule(PSRule rule, String context, int index, int count)
      throws SchematronValidationException {
    delegate.onFiredRule(rule, context, index, count);
  }

  @Override
  public EContinue onFailedAssert(
      PSRule rule,
      PSAssertReport assertReport,
      String test,
      Node node,
      int index,
      Object context,
      Exception exception)
      throws SchematronValidationException {
    if (takenEarlier.contains(node)) {
      heldBack++;
      return EContinue.CONTINUE;
    }
    return delegate.onFailedAssert(rule, assertReport, test, node, index, context, exception);
  }

  @Override
  public EContinue onSuccessfulReport(
      PSRule rule,
      PSAssertReport assertReport,
      String test,
      Node node,
      int index,
      Object context,
      Exception exception)
      throws SchematronValidationException {
    if (takenEarlier.contains(node)) {
      heldBack++;
      return EContinue.CONTINUE;
    }
    return delegate.onSuccessfulReport(rule, assertReport, test, node, index, context, exception);
  }

  @Override
  public void onEnd(PSSchema schema, PSPhase phase) throws SchematronValidationException {
    delegate.onEnd(schema, phase);
  }
}
