import { describe, expect, test } from "vitest";
import { newText } from "../../../service/src/channels/email/new-text";

const lines = (...l: string[]) => l.join("\n");

describe("newText: quoted history is removed", () => {
  test("Gmail: the attribution and the quoted lines go, the answer stays", () => {
    const mail = lines(
      "Yes, the order number is 4411.",
      "",
      "On Mon, Jan 1, 2024 at 10:00 AM Acme Support <support@acme.test> wrote:",
      "",
      "> Could you send us your order number?",
      ">",
      "> Acme",
    );
    expect(newText(mail)).toBe("Yes, the order number is 4411.");
  });

  test("Gmail's attribution wrapped over two lines is still recognised", () => {
    const mail = lines(
      "Thanks, that fixed it.",
      "",
      "On Mon, Jan 1, 2024 at 10:00 AM Acme Customer Support Team <",
      "support@acme.test> wrote:",
      "",
      "> Please restart the router.",
    );
    expect(newText(mail)).toBe("Thanks, that fixed it.");
  });

  test("an unquoted history below a dated attribution is cut", () => {
    const mail = lines(
      "Still broken.",
      "",
      "On 1 Jan 2024, at 10:00, Acme <support@acme.test> wrote:",
      "",
      "Please restart the router.",
    );
    expect(newText(mail)).toBe("Still broken.");
  });

  test("an inline reply keeps the customer's answers between the quotes", () => {
    const mail = lines(
      "On Mon, Jan 1, 2024 at 10:00 AM Acme <support@acme.test> wrote:",
      "> What is your order number?",
      "4411",
      "> And the delivery address?",
      "12 Rue de la Paix, Paris",
    );
    expect(newText(mail)).toBe(lines("4411", "12 Rue de la Paix, Paris"));
  });

  test("Apple Mail", () => {
    const mail = lines(
      "Works now, thank you!",
      "",
      "> On 1 Jan 2024, at 10:00, Acme Support <support@acme.test> wrote:",
      "> ",
      "> Please try again.",
    );
    expect(newText(mail)).toBe("Works now, thank you!");
  });

  test("French and German Gmail attributions", () => {
    const french = lines(
      "Merci beaucoup.",
      "",
      "Le lun. 1 janv. 2024 à 10:00, Acme <support@acme.test> a écrit :",
      "",
      "> Bonjour",
    );
    const german = lines(
      "Danke, das hat geholfen.",
      "",
      "Am Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Acme <support@acme.test>:",
      "",
      "> Hallo",
    );
    expect(newText(french)).toBe("Merci beaucoup.");
    expect(newText(german)).toBe("Danke, das hat geholfen.");
  });

  test("Outlook: -----Original Message----- and everything after it", () => {
    const mail = lines(
      "Please cancel my subscription.",
      "",
      "-----Original Message-----",
      "From: Acme <support@acme.test>",
      "Sent: Monday, January 1, 2024 10:00 AM",
      "To: Jane <jane@example.test>",
      "Subject: Your subscription",
      "",
      "Your subscription renews tomorrow.",
    );
    expect(newText(mail)).toBe("Please cancel my subscription.");
  });

  test("Outlook: the From/Sent/To/Subject block under a line of underscores", () => {
    const mail = lines(
      "Can I change the date?",
      "",
      "________________________________",
      "From: Acme <support@acme.test>",
      "Sent: Monday, January 1, 2024 10:00",
      "To: jane@example.test",
      "Subject: Re: Booking",
      "",
      "Your booking is confirmed.",
    );
    expect(newText(mail)).toBe("Can I change the date?");
  });

  test("Outlook's header block without a separator, localized (French)", () => {
    const mail = lines(
      "Oui, merci.",
      "",
      "De : Acme <support@acme.test>",
      "Envoyé : lundi 1 janvier 2024 10:00",
      "À : jane@example.test",
      "Objet : RE: Réservation",
      "",
      "Votre réservation est confirmée.",
    );
    expect(newText(mail)).toBe("Oui, merci.");
  });

  test("Outlook's header block flattened into one line", () => {
    const mail = lines(
      "Thanks!",
      "From: Acme <support@acme.test> Sent: Monday, January 1, 2024 10:00 To: jane@example.test Subject: Booking",
      "Your booking is confirmed.",
    );
    expect(newText(mail)).toBe("Thanks!");
  });

  test("Spanish, Italian, Portuguese and Dutch attributions", () => {
    for (const attribution of [
      "El lun, 1 ene 2024 a las 10:00, Acme (<support@acme.test>) escribió:",
      "Il giorno lun 1 gen 2024 alle ore 10:00 Acme <support@acme.test> ha scritto:",
      "Em seg., 1 de jan. de 2024 às 10:00, Acme <support@acme.test> escreveu:",
      "Op ma 1 jan 2024 om 10:00 schreef Acme <support@acme.test>:",
    ]) {
      expect(newText(lines("Gracias.", "", attribution, "", "> hola"))).toBe("Gracias.");
    }
  });

  test("a forwarded message is kept: the customer wants it read", () => {
    const mail = lines(
      "I never received this order:",
      "",
      "---------- Forwarded message ---------",
      "From: Acme Shop <orders@acme.test>",
      "Date: Mon, Jan 1, 2024 at 10:00 AM",
      "Subject: Order 4411 confirmed",
      "To: <jane@example.test>",
      "",
      "Order 4411: 2 x blue mug",
    );
    expect(newText(mail)).toBe(mail);
  });
});

describe("newText: signatures and mobile footers are removed", () => {
  test("everything below the '-- ' delimiter", () => {
    const mail = lines("Where is my parcel?", "", "-- ", "Jane Doe", "CEO, Example Ltd", "+33 1 23 45 67 89");
    expect(newText(mail)).toBe("Where is my parcel?");
  });

  test("Sent from my iPhone, Get Outlook for iOS and their translations", () => {
    for (const footer of [
      "Sent from my iPhone",
      "Sent from my Galaxy",
      "Get Outlook for iOS<https://aka.ms/o0ukef>",
      "Get Outlook for Android [https://aka.ms/ghei36]",
      "Envoyé de mon iPhone",
      "Von meinem iPhone gesendet",
    ]) {
      expect(newText(lines("Is the shop open on Sunday?", "", footer))).toBe("Is the shop open on Sunday?");
    }
  });

  test("a footer above the quote goes as well as the quote", () => {
    const mail = lines(
      "OK",
      "",
      "Sent from my iPhone",
      "",
      "On Jan 1, 2024, at 10:00, Acme <support@acme.test> wrote:",
      "",
      "> Shall we call you?",
    );
    expect(newText(mail)).toBe("OK");
  });
});

describe("newText: the customer's own text is kept intact", () => {
  test("a '>' inside a sentence is not a quote", () => {
    const mail = "My bill says 3 > 2 items, and the total is <10 EUR>.\nPlease check -> thanks.";
    expect(newText(mail)).toBe(mail);
  });

  test("a sentence that merely mentions writing is not an attribution", () => {
    const mail = lines("On Monday your colleague wrote:", "the refund would arrive this week. It did not.");
    expect(newText(mail)).toBe(mail);
  });

  test("a sentence mentioning From: and Sent: in passing is not a header block", () => {
    const mail = lines("From: my side everything is set up.", "Sent: nothing yet, the form fails.");
    expect(newText(mail)).toBe(mail);
  });

  test("a list with dashes and a 'Sent from' in the middle of a sentence stay", () => {
    const mail = lines("Items:", "- blue mug", "- red mug", "", "The parcel was sent from Lyon on Monday.");
    expect(newText(mail)).toBe(mail);
  });

  test("CRLF line ends, trailing spaces and blank runs are normalised; the words are not", () => {
    expect(newText("  Hello,  \r\n\r\n\r\n\r\nmy order   is late.  \r\n")).toBe(
      "Hello,\n\nmy order   is late.",
    );
  });

  test("a huge hostile body is read only as far as it matters", () => {
    const hostile = `From: a ${"Sent: b ".repeat(200_000)}`;
    const text = newText(hostile);
    expect(text.startsWith("From: a Sent: b")).toBe(true);
    expect(text.length).toBeLessThanOrEqual(100_000);
  });

  test("a message that is only a quote has no new text", () => {
    expect(newText(lines("On Mon, Jan 1, 2024 at 10:00 AM Acme <a@acme.test> wrote:", "> hello"))).toBe("");
  });
});
