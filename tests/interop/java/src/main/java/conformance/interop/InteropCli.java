package conformance.interop;

import com.helger.diagnostics.error.IError;
import com.helger.io.resource.FileSystemResource;
import com.helger.schematron.pure.SchematronResourcePure;
import com.helger.schematron.pure.exchange.PSReader;
import com.helger.schematron.pure.model.PSPattern;
import com.helger.schematron.pure.model.PSRule;
import com.helger.schematron.pure.model.PSSchema;
import com.helger.schematron.pure.validation.xpath.PSXPathValidationHandlerSVRL;
import com.helger.schematron.pure.errorhandler.IPSErrorHandler;
import com.helger.schematron.pure.xpath.IXPathConfig;
import com.helger.schematron.pure.xpath.XPathConfigBuilder;
import com.helger.schematron.svrl.jaxb.FailedAssert;
import com.helger.schematron.svrl.jaxb.SchematronOutputType;
import com.helger.schematron.svrl.jaxb.SuccessfulReport;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import javax.xml.xpath.XPathFunction;
import org.w3c.dom.Document;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXParseException;

/**
 * Validates documents with engines that share no code with the harness's own validator.
 *
 * <ul>
 *   <li>Schematron: ph-schematron-pure, which reads the .sch itself and evaluates every rule
 *       context, let, assert and report as an XPath expression (no XSLT, no SchXslt, no ISO
 *       skeleton). Its XPath engine is Saxon-HE for Java (printed in the header line).
 *   <li>XML Schema: the JDK's built-in javax.xml.validation (Xerces), not libxml2.
 * </ul>
 *
 * <p>Usage: {@code InteropCli [--schematron LABEL=SCH]... [--xsd ROOT=XSD]... --files LIST}, where
 * LIST holds one path per line (UTF-8). Output (UTF-8, one JSON object per line): first a header
 * {@code {"header": {...}}} naming the engines and any problem reading a schema, then one line per
 * file: {@code {"file", "root", "error", "schematron": {LABEL: {"held_back", "failed": [{"id",
 * "flag", "location", "kind"}], "errors": [...]}}, "xsd": {"valid", "errors": [{"line",
 * "column", "message"}]}}}.
 *
 * <p>Three gaps of ph-schematron-pure are bridged: union rule contexts get "//" on every branch
 * ({@link #contextAsSelect}); a node is checked by the first matching rule of a pattern only, as
 * ISO Schematron says ({@link FirstMatchHandler}; {@code held_back} counts the findings of later
 * rules it dropped); and Peppol's {@code u:} functions, which are {@code xsl:function}s, are
 * supplied in Java ({@link PeppolUtils}). One is not: {@code let} values reach the XPath engine
 * through JAXP's XPath 1.0 types (see tests/interop/README.md).
 *
 * <p>{@code InteropCli --eval-utils LIST} evaluates the Java versions of the Peppol {@code u:}
 * functions ({@link PeppolUtils}) on tab-separated lines {@code name<TAB>arg...} and prints {@code
 * {"line", "result", "error"}} per line, for a differential test against the XSLT originals.
 */
public final class InteropCli {

  private InteropCli() {}

  /** A Schematron schema bound by ph-schematron-pure, and the errors its engine reported. */
  private static final class PureSchema {
    final String label;
    final SchematronResourcePure resource;
    final List<String> errors = new ArrayList<>();
    final List<String> bindErrors = new ArrayList<>();
    boolean bound;

    /** Rule contexts given to ph-schematron-pure as rewritten by {@link #contextAsSelect}. */
    int rewrittenContexts;

    PureSchema(String label, Path sch) throws Exception {
      this.label = label;
      IPSErrorHandler readErrors =
          new IPSErrorHandler() {
            @Override
            public void handleError(IError error) {
              errors.add(describe(error));
            }
          };
      PSSchema model =
          new PSReader(new FileSystemResource(sch.toFile()), readErrors, null).readSchema();
      for (PSPattern pattern : model.getAllPatterns()) {
        for (PSRule rule : pattern.getAllRules()) {
          String context = rule.getContext();
          String select = contextAsSelect(context);
          if (select != null && !select.equals(context)) {
            rule.setContext(select);
            rewrittenContexts++;
          }
        }
      }
      this.resource = SchematronResourcePure.fromSchema(model);
      this.resource.setErrorHandler(readErrors);
      IXPathConfig config =
          new XPathConfigBuilder().setXPathFunctionResolver(PeppolUtils.resolver()).build();
      this.resource.setXPathConfig(config);
      this.resource.setUseCache(false);
      this.bound = this.resource.isValidSchematron();
      this.bindErrors.addAll(errors);
      errors.clear();
      if (!this.bound && this.bindErrors.isEmpty()) {
        this.bindErrors.add("ph-schematron-pure could not bind the schema (no detail given)");
      }
    }

    String xpathFactory() {
      return resource.getXPathConfig().getXPathFactory().getClass().getName();
    }
  }

  /**
   * A rule context (an XSLT pattern) as the XPath that selects the nodes it matches.
   *
   * <p>ph-schematron-pure prefixes a context that does not start with "/" with "//", which is right
   * for one path but not for a union: {@code cac:InvoiceLine | cac:CreditNoteLine} becomes {@code
   * //cac:InvoiceLine | cac:CreditNoteLine}, whose second branch is evaluated from the document
   * node and matches nothing, so credit-note line rules never fire. A pattern's branches each match
   * anywhere, so each relative branch gets its own "//" here. Returns null for a null context.
   */
  static String contextAsSelect(String context) {
    if (context == null) {
      return null;
    }
    List<String> branches = new ArrayList<>();
    int depth = 0;
    char quote = 0;
    int start = 0;
    for (int i = 0; i < context.length(); i++) {
      char c = context.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
      } else if (c == '|' && depth == 0) {
        branches.add(context.substring(start, i));
        start = i + 1;
      }
    }
    branches.add(context.substring(start));
    if (branches.size() == 1) {
      return context; // ph-schematron-pure's own "//" prefix is right for a single path
    }
    StringBuilder sb = new StringBuilder();
    for (String branch : branches) {
      String b = branch.trim();
      if (sb.length() > 0) {
        sb.append(" | ");
      }
      sb.append(b.startsWith("/") ? b : "//" + b);
    }
    return sb.toString();
  }

  private static String describe(IError error) {
    String text = error.getAsStringLocaleIndepdent();
    if (text == null || text.isBlank()) {
      text = String.valueOf(error.getErrorText(Locale.ROOT));
    }
    return text.replaceAll("\\s+", " ").trim();
  }

  public static void main(String[] args) throws Exception {
    Map<String, Path> schematrons = new LinkedHashMap<>();
    Map<String, Path> xsds = new LinkedHashMap<>();
    Path files = null;
    Path evalUtils = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String value = i + 1 < args.length ? args[i + 1] : null;
      if (value == null) {
        usage("option " + arg + " needs a value");
      }
      i++;
      switch (arg) {
        case "--schematron" -> putPair(schematrons, value, arg);
        case "--xsd" -> putPair(xsds, value, arg);
        case "--files" -> files = Path.of(value);
        case "--eval-utils" -> evalUtils = Path.of(value);
        default -> usage("unknown option " + arg);
      }
    }
    PrintWriter out =
        new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false);
    if (evalUtils != null) {
      evalUtils(evalUtils, out);
      out.flush();
      return;
    }
    if (files == null) {
      usage("--files LIST is required");
    }

    // -- engines ---------------------------------------------------------------------------
    Json header = Json.object();
    header.put("ph_schematron", mavenVersion("com.helger.schematron", "ph-schematron-pure"));
    header.put("saxon", net.sf.saxon.Version.getProductVersion());
    header.put("java", System.getProperty("java.version"));
    List<PureSchema> pure = new ArrayList<>();
    Json schemaInfo = Json.object();
    for (Map.Entry<String, Path> e : schematrons.entrySet()) {
      PureSchema schema = new PureSchema(e.getKey(), e.getValue());
      pure.add(schema);
      Json info = Json.object();
      info.put("file", e.getValue().toString());
      info.put("bound", schema.bound);
      info.put("rewritten_contexts", schema.rewrittenContexts);
      info.put("xpath_factory", schema.xpathFactory());
      info.put("errors", Json.strings(schema.bindErrors));
      schemaInfo.put(e.getKey(), info);
    }
    header.put("schematron", schemaInfo);

    SchemaFactory schemaFactory = SchemaFactory.newDefaultInstance();
    header.put("xsd_factory", schemaFactory.getClass().getName());
    Map<String, Schema> xsdByRoot = new LinkedHashMap<>();
    Json xsdInfo = Json.object();
    for (Map.Entry<String, Path> e : xsds.entrySet()) {
      Json info = Json.object();
      info.put("file", e.getValue().toString());
      try {
        xsdByRoot.put(e.getKey(), schemaFactory.newSchema(e.getValue().toFile()));
        info.put("error", null);
      } catch (Exception exc) {
        info.put("error", String.valueOf(exc.getMessage()));
      }
      xsdInfo.put(e.getKey(), info);
    }
    header.put("xsd", xsdInfo);
    out.println(Json.object().put("header", header));
    out.flush();

    // -- documents --------------------------------------------------------------------------
    DocumentBuilderFactory dbf = DocumentBuilderFactory.newDefaultInstance();
    dbf.setNamespaceAware(true);
    dbf.setXIncludeAware(false);
    dbf.setExpandEntityReferences(false);
    dbf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    // Node identity matters to FirstMatchHandler: build the whole tree up front.
    dbf.setFeature("http://apache.org/xml/features/dom/defer-node-expansion", false);
    DocumentBuilder builder = dbf.newDocumentBuilder();
    builder.setErrorHandler(null);

    for (String line : Files.readAllLines(files, StandardCharsets.UTF_8)) {
      if (line.isEmpty()) {
        continue;
      }
      Path file = Path.of(line);
      Json result = Json.object();
      result.put("file", line);
      byte[] data;
      Document doc;
      try {
        data = Files.readAllBytes(file);
        doc = builder.parse(new ByteArrayInputStream(data), file.toUri().toString());
      } catch (Exception exc) {
        result.put("root", null);
        result.put("error", "cannot read or parse: " + exc.getMessage());
        out.println(result);
        out.flush();
        continue;
      }
      String root = doc.getDocumentElement().getLocalName();
      result.put("root", root);
      result.put("error", null);

      Json schResults = Json.object();
      for (PureSchema schema : pure) {
        Json r = Json.object();
        List<Json> failed = new ArrayList<>();
        schema.errors.clear();
        PeppolUtils.drainErrors();
        if (schema.bound) {
          try {
            PSXPathValidationHandlerSVRL svrlHandler =
                new PSXPathValidationHandlerSVRL(schema.resource.getErrorHandler());
            FirstMatchHandler handler = new FirstMatchHandler(svrlHandler);
            schema
                .resource
                .getOrCreateBoundSchema()
                .validate(doc, file.toUri().toString(), handler);
            SchematronOutputType svrl = svrlHandler.getSVRL();
            r.put("held_back", handler.heldBack);
            for (Object o : svrl.getActivePatternAndFiredRuleAndFailedAssert()) {
              if (o instanceof FailedAssert fa) {
                failed.add(finding(fa.getId(), fa.getFlag(), fa.getLocation(), "assert"));
              } else if (o instanceof SuccessfulReport sr) {
                failed.add(finding(sr.getId(), sr.getFlag(), sr.getLocation(), "report"));
              }
            }
          } catch (Exception exc) {
            schema.errors.add("validation failed: " + exc);
          }
        } else {
          schema.errors.add("schema not bound");
        }
        schema.errors.addAll(PeppolUtils.drainErrors());
        r.put("failed", failed);
        r.put("errors", Json.strings(schema.errors));
        schResults.put(schema.label, r);
      }
      result.put("schematron", schResults);

      Schema xsd = xsdByRoot.get(root);
      if (!xsds.isEmpty()) {
        Json x = Json.object();
        List<Json> errors = new ArrayList<>();
        if (xsd == null) {
          errors.add(xsdError(0, 0, "no XML Schema was given for root element " + root));
        } else {
          Validator validator = xsd.newValidator();
          validator.setErrorHandler(
              new ErrorHandler() {
                @Override
                public void warning(SAXParseException e) {}

                @Override
                public void error(SAXParseException e) {
                  errors.add(xsdError(e.getLineNumber(), e.getColumnNumber(), e.getMessage()));
                }

                @Override
                public void fatalError(SAXParseException e) {
                  errors.add(xsdError(e.getLineNumber(), e.getColumnNumber(), e.getMessage()));
                }
              });
          try (InputStream in = new ByteArrayInputStream(data)) {
            StreamSource source = new StreamSource(in, file.toUri().toString());
            validator.validate(source);
          } catch (org.xml.sax.SAXException exc) {
            if (errors.isEmpty()) {
              errors.add(xsdError(0, 0, String.valueOf(exc.getMessage())));
            }
          }
        }
        x.put("valid", errors.isEmpty());
        x.put("errors", errors);
        result.put("xsd", x);
      }
      out.println(result);
      out.flush();
    }
    out.flush();
  }

  private static Json finding(String id, String flag, String location, String kind) {
    Json f = Json.object();
    f.put("id", id == null ? "" : id);
    f.put("flag", flag);
    f.put("location", location);
    f.put("kind", kind);
    return f;
  }

  private static Json xsdError(int line, int column, String message) {
    Json e = Json.object();
    e.put("line", line);
    e.put("column", column);
    e.put("message", message == null ? "" : message.replaceAll("\\s+", " ").trim());
    return e;
  }

  private static void evalUtils(Path list, PrintWriter out) throws IOException {
    try (BufferedReader reader = Files.newBufferedReader(list, StandardCharsets.UTF_8)) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isEmpty()) {
          continue;
        }
        String[] parts = line.split("\t", -1);
        List<Object> fnArgs = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
          fnArgs.add(parts[i]);
        }
        Json r = Json.object();
        r.put("line", line);
        XPathFunction fn = PeppolUtils.function(parts[0], fnArgs.size());
        if (fn == null) {
          r.put("result", null);
          r.put("error", "no such function " + parts[0] + "#" + fnArgs.size());
        } else {
          try {
            Object value = fn.evaluate(fnArgs);
            r.put("result", value instanceof Boolean b ? b : String.valueOf(value));
            r.put("error", null);
          } catch (Exception exc) {
            r.put("result", null);
            r.put("error", String.valueOf(exc.getMessage()));
          }
        }
        out.println(r);
      }
    }
  }

  private static void putPair(Map<String, Path> map, String value, String option) {
    int eq = value.indexOf('=');
    if (eq <= 0) {
      usage(option + " takes NAME=PATH, got " + value);
    }
    map.put(value.substring(0, eq), Path.of(value.substring(eq + 1)));
  }

  private static String mavenVersion(String group, String artifact) {
    String res = "META-INF/maven/" + group + "/" + artifact + "/pom.properties";
    try (InputStream in = InteropCli.class.getClassLoader().getResourceAsStream(res)) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException exc) {
      return "unknown";
    }
  }

  private static void usage(String message) {
    System.err.println(
        "interop: "
            + message
            + "\nusage: InteropCli [--schematron LABEL=SCH]... [--xsd ROOT=XSD]... --files LIST"
            + "\n       InteropCli --eval-utils LIST");
    System.exit(2);
  }
}
