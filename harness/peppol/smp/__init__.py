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

Clauses this library implements (cite them in requirements). Primary texts were read through
the project's search tools; where only a faithful secondary rendering was available, the source
column says so, and clause *numbers* are given only where that reading confirmed them -- otherwise
the clause is named by its title.

=====================================================  ====================================================
Rule                                                   Source (document, version, clause)
=====================================================  ====================================================
Participant values compare case-insensitively;         Peppol Policy for use of Identifiers (PFUOI) 4.4.0,
document type and process values case-sensitively      POLICY 2
Lengths/charsets: scheme <= 25; participant value      PFUOI 4.4.0, POLICY 1 (limits as coded in
<= 135 (ICD ":" + 130), US-ASCII; document type <= 500, peppol-commons PeppolIdentifierHelper 12.x)
process <= 200, ISO-8859-1
Participant scheme ``iso6523-actorid-upis``, values     PFUOI 4.4.0, POLICY 4..6 (participant schemes)
``NNNN:id`` with an ISO 6523 ICD
DNS name = base32(sha256(lowercase(value))) no         PFUOI 4.4.0, POLICY 7 (test vector ``9915:test``);
padding . scheme . zone; only the value is hashed      Peppol SML 1.3.0 (2025-02-06), "DNS name of a
                                                       participant" (title; number not confirmed)
U-NAPTR record, flag ``U``, service ``Meta:SMP``,      Peppol SML 1.3.0, discovery / "U-NAPTR records";
regexp yields the absolute SMP base URL                OASIS BDXL 1.0 section 3 (Meta:SMP); RFC 4848 2;
                                                       RFC 3402 3.2 (substitution expression)
Retired ``B-<md5 hex>`` CNAME form                     Peppol SML 1.0.1/1.2.x (CNAME lookup, retired by
                                                       the NAPTR migration of 2025-11-01)
REST read interface: ``GET /{participant}`` and        Peppol SMP 1.4.0 (2025-02-06), section 3 "REST
``GET /{participant}/services/{documentType}``,        binding" (resources, percent encoding of
identifiers as ``scheme::value``, percent-encoded      ``scheme::value``, HTTP status codes: 200, 404
(RFC 3986 2.1); 404 for unknown resources              for an unknown participant / document type)
SignedServiceMetadata carries an enveloped XML         Peppol SMP 1.4.0, section 3 "XML signature"
signature over the whole document by the SMP           (title); SHA-256 replaced SHA-1 in SMP 1.3.0;
certificate (RSA-SHA256, X509Certificate in KeyInfo)   SMP 1.0 types: SignedServiceMetadataType
                                                       documentation ("enveloped XML signature")
ServiceMetadataReference hrefs point at the SMP's      SMP 1.0 types: ServiceMetadataReferenceCollection
own SignedServiceMetadata resources                    documentation ("MUST refer to ... signed by the
                                                       certificate of the SMP")
ParticipantIdentifier of ServiceInformation equals     SMP 1.0 types: ServiceInformationType documentation
the {id} of the resource URL
The SMP signing certificate is not revoked; a         RFC 5280 section 6.3 (CRL processing; 6.3.3: no
relying party checks it by the CRL of its issuer       current CRL, status undetermined); Peppol SMP
(fail closed without a current, verifiable CRL)        1.4.0 section 3 "XML signature" (the SMP
                                                       certificate; title); the OpenPeppol testbed's
                                                       invalid-certificate cases (secondary source)
Redirect: follow the first, SHOULD NOT follow a        SMP 1.0 types: ServiceMetadataType / RedirectType
second; SHOULD check the destination certificate       documentation; Peppol SMP 1.4.0 "Redirect"
against CertificateUID
Endpoint transport profile ``peppol-transport-as4-     Peppol AS4 profile 2.0, "Transport Profile
v2_0``; senders use the endpoint of a profile they     Identifier" / "PEPPOL Dynamic Discovery"
support, its Certificate and EndpointReference/Address
Senders ignore services not yet activated or expired   SMP 1.0 types: EndpointType documentation
                                                       (ServiceActivationDate / ServiceExpirationDate)
=====================================================  ====================================================

Versions read: Peppol SMP 1.4.0 and SML 1.3.0 (both 2025-02-06, valid from 2025-11-01), PFUOI
4.4.0; the XSDs are the mirrored third-party copies listed in ``harness/data/artefacts.lock``
(``smp/peppol-smp-1.0/*``, ``as4/w3/xmldsig-core-schema.xsd``). The canonicalization method is
not pinned by those sources as read here: signatures are written with exclusive C14N and
exclusive C14N, C14N 1.0 and C14N 1.1 are accepted on verification.
"""
