"""Peppol SMP 1.x and SML: identifiers, DNS names, SMP documents, signatures and the AP lookup.

Modules (import them directly; this package imports nothing heavy):

- :mod:`.identifiers` -- participant / document type / process identifiers, case rules, the
  percent-encoded URL form and its parsing (double encoding refused);
- :mod:`.sml` -- the participant's DNS name, U-NAPTR ``Meta:SMP`` records, a DNS client (dnslib);
- :mod:`.smp_xml` -- ServiceGroup and SignedServiceMetadata: model, builders with fault knobs,
  parsers for untrusted bytes, validation against the mirrored SMP XSDs;
- :mod:`.signing` -- enveloped XML-DSig (RSA-SHA256, signxml), verification, chain to SMP CAs;
- :mod:`.client` -- the lookup an AP does (DNS -> SMP -> verify -> endpoint), with knobs for
  known-bad behaviour.

For certifying a participant (profile ``peppol-smp``):

- :mod:`.control` -- the control API bodies (publication, lookup request) as typed values;
- :mod:`.reader` -- GETs an SMP under test by raw path, keeping every exchange as evidence;
- :mod:`.judge` -- judgements of SMP resources and of an AP's traffic, one per requirement;
- :mod:`.tls` -- SMP-TLS-001 (HTTPS only, TLS 1.2+, no plain HTTP);
- :mod:`.scenarios` -- the test participants and lookup cases; :mod:`.roundtrip` -- one
  publish -> DNS -> fetch round trip; :mod:`.strategies` -- hypothesis strategies for awkward
  identifiers (imports hypothesis).

Clauses this library implements (cite them in requirements), from the published texts in
OpenPeppol's eDEC specifications repository: Peppol Service Metadata Publishing (SMP) 1.4.0 and
Service Metadata Locator (SML) 1.3.0 (both 2025-02-06, valid from 2025-11-01) and the Peppol
Policy for use of Identifiers (PFUOI) 4.4.0 (2025-02-06). SMP section numbers are those of its
table of contents (1 Introduction, 2 The Service Discovery Process, 3 Interface model, 4 Data
model, 5 REST binding, 8 Appendix A).

=====================================================  ====================================================
Rule                                                   Source (document, version, clause)
=====================================================  ====================================================
Participant values compare case-insensitively;         PFUOI 4.4.0, POLICY 2 "Identifier Value casing"
document type, process and transport profile values
case-sensitively
Participant value after the ICD: 1..130 characters of  PFUOI 4.4.0, POLICY 1 "Usage of ISO15459" (also:
``A-Z a-z 0-9 - . _ ~``; document type <= 500, process  document types, processes from ISO-8859-1);
<= 200; customization id without ``*`` or whitespace;  POLICY 17; POLICY 25
process value without whitespace
Participant meta scheme ``iso6523-actorid-upis``,      PFUOI 4.4.0, POLICY 3, 4, 5, 6; POLICY 8 (scheme
values ``NNNN:id`` with an ISO 6523 ICD                attribute in SMP responses)
DNS name = base32(sha256(lowercase(value))) without    PFUOI 4.4.0, POLICY 7 (example ``0088:123abc``);
padding . scheme . zone; only the value is hashed      SML 1.3.0, 2.1 "Discovery flow", 3.1.1 "Format of
(UTF-8, en_US lower-casing)                            Participant Identifiers" (example
                                                       ``0010:5798000000001``)
U-NAPTR record, service ``Meta:SMP`` (case-            SML 1.3.0, 2.1.1 "U-NAPTR Resource Records"; OASIS
insensitive), regexp yields the SMP base URL; that     BDXL 1.0; RFC 4848; RFC 3402 3.2 (substitution
URL is https only, without userinfo, query, fragment   expression)
Retired ``B-<md5 hex>`` CNAME form                     Peppol SML 1.0.1 / 1.2.0 (CNAME lookup, replaced by
                                                       U-NAPTR: "Peppol CNAME to NAPTR Migration Process"
                                                       1.0.0, 2025-04-17)
REST read interface: ``GET /{participant}`` and        SMP 1.4.0, 5.3 "Resources and identifiers", 5.3.1
``GET /{participant}/services/{documentType}``,        "On the use of percent encoding" (each segment on
identifiers as ``scheme::value``, each path segment    its own, slashes not encoded), 5.3.2
percent-encoded on its own (RFC 3986)
Status codes 200 / 404 / 500; Content-Type text/xml    SMP 1.4.0, 5.1 "The use of HTTPS" (also: TLS MUST,
or application/xml; no HTTP 3xx redirection            port 443; 3xx SHOULD NOT be used)
UTF-8, XML 1.0 declaration with encoding UTF-8         SMP 1.4.0, 5.2 "The use of XML and encoding"
ServiceGroup references point at this SMP's own        SMP 1.4.0, 4.2 "ServiceGroup"
SignedServiceMetadata
ParticipantIdentifier of ServiceInformation equals     SMP 1.4.0, 4.3 "ServiceMetadata"
the {id} of the resource URL
SignedServiceMetadata: enveloped ds:Signature; exactly SMP 1.4.0, 4.4 "SignedServiceMetadata", 5.5.1
one Transform (enveloped-signature); C14N              "Message signature" (SMP 1.2.0 changed C14N from
``REC-xml-c14n-20010315``; RSA-SHA256; SHA-256;        exclusive to inclusive, 1.3.0 SHA-1 to SHA-256)
X509Certificate in KeyInfo
Verification: signature, issued by the trusted root,   SMP 1.4.0, 5.5.2 "Verifying the signature"; RFC 5280
validity dates, revocation                             6.1.3 (a), 6.3
Redirect: href of the destination record and           SMP 1.4.0, 2.2 "Service Metadata Publisher
CertificateUID; MUST follow the first, SHOULD NOT      Redirection", 4.3 "ServiceMetadata", 5.5.3
follow a second, SHOULD check the destination signer   "Verifying the signature of the destination SMP"
Endpoint transport profile ``peppol-transport-as4-     SMP 1.4.0, 4.3 (Endpoint/@transportProfile); PFUOI
v2_0``; senders use the endpoint of a profile they     4.4.0, POLICY 28, 29; Peppol AS4 profile 2.0
support, its Certificate and EndpointReference/Address
Senders MUST ignore endpoints not yet activated or     SMP 1.4.0, 4.3 (ServiceActivationDate,
expired (missing dates: since / until forever)         ServiceExpirationDate)
=====================================================  ====================================================

The XSDs are the mirrored third-party copies listed in ``harness/data/artefacts.lock``
(``smp/peppol-smp-1.0/*``, ``as4/w3/xmldsig-core-schema.xsd``); SMP 1.4.0 calls its own copy of
that schema (Appendix A) non-normative, the data model of section 4 being the normative part.
Signatures are written exactly as 5.5.1 says; verification, what a relying party does, also
accepts exclusive C14N and C14N 1.1 (:mod:`.signing`).
"""
