"""Word and sentence pools used by generate.py (stdlib only, plain data).

Templates use two kinds of markup, expanded by generate.expand():
  [a|b|c]   pick one alternative (may be empty, may be nested)
  {slot}    filled from the per-ticket facts dict
"""

CATEGORIES = [
    "billing",
    "account_access",
    "shipping",
    "bug_report",
    "feature_request",
    "refund",
    "cancellation",
    "data_privacy",
    "performance",
]

# Target share of English tickets per category (must sum to 1.0).
CATEGORY_WEIGHTS = {
    "billing": 0.16,
    "account_access": 0.14,
    "shipping": 0.14,
    "bug_report": 0.15,
    "feature_request": 0.08,
    "refund": 0.10,
    "cancellation": 0.07,
    "data_privacy": 0.06,
    "performance": 0.10,
}

PRIORITIES = ["low", "medium", "high", "urgent"]
SENTIMENTS = ["positive", "neutral", "negative"]

FIRST = [
    "Anna", "Ben", "Carla", "Derek", "Elena", "Farid", "Grace", "Hector", "Ines", "Jonah",
    "Keiko", "Liam", "Maya", "Nikhil", "Olivia", "Pablo", "Quinn", "Rosa", "Samir", "Tessa",
    "Umar", "Vera", "Wesley", "Ximena", "Yusuf", "Zoe", "Aaron", "Bianca", "Caleb", "Dana",
    "Ethan", "Fiona", "Gavin", "Hannah", "Isaac", "Jade", "Kevin", "Leah", "Marcus", "Nora",
    "Owen", "Priya", "Rachel", "Simon", "Tara", "Victor", "Wendy", "Yara", "Adrian", "Brooke",
    "Chloe", "Diego", "Emily", "Frank", "Gemma", "Hugo", "Ivy", "Jasper", "Kira", "Lucas",
    "Megan", "Nathan", "Paige", "Reza", "Sofia", "Theo", "Uma", "Vikram", "Willow", "Zach",
]

LAST = [
    "Adams", "Baker", "Chen", "Dalton", "Evans", "Fischer", "Garcia", "Hughes", "Iqbal", "Jensen",
    "Kowalski", "Larsen", "Mendez", "Novak", "Okafor", "Patel", "Quinlan", "Reyes", "Suzuki", "Turner",
    "Usman", "Vance", "Walsh", "Xu", "Young", "Zimmer", "Abbott", "Brennan", "Castillo", "Doyle",
    "Ellison", "Foster", "Grant", "Holloway", "Ingram", "Jordan", "Kim", "Lindqvist", "Morales", "Nguyen",
    "Oliveira", "Price", "Ramsey", "Sato", "Thornton", "Underwood", "Varga", "Whitaker", "Yilmaz", "Zhou",
    "Bishop", "Carver", "Dunn", "Farrell", "Gupta", "Hayes", "Kaur", "Lopez", "Murphy", "Ortiz",
]

COMPANIES = [
    "Harbor and Pine Dental", "Northwind Bakery", "Bluegate Logistics", "Copperleaf Studio",
    "Maple Street Physio", "Redfern Architects", "Tidewater Realty", "Sunnyside Daycare",
    "Ironbark Construction", "Lumen Legal", "Greenway Landscaping", "Foxglove Florists",
    "Pinecrest Accounting", "Orchard Lane Vets", "Stonebridge Tutoring", "Riverbend Brewing",
    "Silverline Travel", "Brightpath Consulting", "Cedar Hollow Farm", "Quartz Creative",
    "Beacon Hill Clinic", "Driftwood Surf School", "Marlow Print Shop", "Westfield Robotics",
    "Kestrel Events", "Hollis and Grey", "Juniper Yoga", "Oakridge Plumbing",
    "Vantage Recruiting", "Saltmarsh Cafe", "Tallgrass Media", "Emberly Candles",
    "Nimbus Analytics", "Poppyfield Nursery", "Arcadia Music School", "Blueberry Lane Bakery",
    "Granite Peak Outfitters", "Larkspur Interiors", "Meridian Freight", "Wildrose Catering",
]

PRODUCTS = [
    "Ledgerly", "TaskHarbor", "Pixelnest", "Quillpad", "Routewise", "Cloudmint", "Syncbox",
    "Brightdesk", "Notably", "Shiftly", "Invoicely Pro", "PayTrellis", "Formstack Lite",
    "CrewCal", "Bookwise", "Stocklight", "MeetLoop", "Docuvault", "Tallyhub", "Fieldnote",
    "PulseCRM", "Orbitly", "Mailcraft", "Snapfolio", "Trackmate", "HelpNest", "Planora",
    "Kiteboard", "Vaultly", "Clinicflow",
]

SHOPS = [
    "Kettle and Crate", "Northline Outfitters", "Brightwater Home", "Pebble and Pine",
    "Urban Thread", "Gadgetry", "Fernwood Books", "Lantern Kitchenware", "Bramble Pet Supply",
    "Summit Cycles", "Coastline Apparel", "Tinker Toys", "Hearth and Loom", "Voltbay Electronics",
    "Greenhouse Goods", "Maplewood Furniture",
]

ITEMS = [
    "standing desk frame", "pair of trail running shoes", "espresso grinder", "set of cast iron pans",
    "wireless headphones", "kids bike helmet", "wool throw blanket", "mechanical keyboard",
    "dog crate", "robot vacuum", "set of linen sheets", "camping stove", "winter parka",
    "smart thermostat", "bookshelf", "gaming monitor", "yoga mat bundle", "stand mixer",
    "portable projector", "office chair", "box set of novels", "rain jacket", "air purifier",
    "toddler car seat", "electric kettle", "pair of hiking boots", "desk lamp", "baby monitor",
]

PLANS = ["Starter", "Basic", "Plus", "Pro", "Team", "Business", "Premium", "Growth", "Scale", "Enterprise"]

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

DEVICES = [
    "iPhone 13", "iPhone 15 Pro", "Pixel 7", "Pixel 8a", "Galaxy S22", "Galaxy A54", "iPad Air",
    "ThinkPad X1", "MacBook Air", "Surface Pro 9", "Dell XPS 15", "OnePlus 11", "Chromebook",
    "HP EliteBook", "Moto G Power", "iMac",
]

OSES = ["iOS 17", "iOS 16", "Android 14", "Android 13", "Windows 11", "Windows 10", "macOS Sonoma", "macOS Ventura", "Ubuntu 22.04", "ChromeOS"]

BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Brave", "Opera"]

CARRIERS = ["UPS", "FedEx", "DHL", "USPS", "Royal Mail", "Canada Post", "DPD", "Evri", "Australia Post", "OnTrac"]

CITIES = [
    "Portland", "Leeds", "Toronto", "Denver", "Bristol", "Austin", "Calgary", "Perth", "Dublin",
    "Phoenix", "Glasgow", "Ottawa", "Seattle", "Brisbane", "Nashville", "Cardiff", "Halifax",
    "Sacramento", "Auckland", "Minneapolis", "Norwich", "Tucson", "Winnipeg", "Raleigh",
]

ROLES = [
    "office manager", "freelance designer", "bookkeeper", "shop owner", "IT admin", "teacher",
    "project lead", "operations coordinator", "practice manager", "student", "sales director",
    "volunteer coordinator", "head of finance", "solo consultant", "warehouse supervisor",
    "marketing lead", "founder", "team lead",
]

FEATURES = [
    ("dark mode", "dark-mode"),
    ("bulk CSV export", "export"),
    ("hardware security key login", "security-keys"),
    ("shared team calendars", "calendar"),
    ("recurring invoices", "recurring-invoices"),
    ("an offline mode", "offline"),
    ("keyboard shortcuts for tagging", "shortcuts"),
    ("outgoing webhooks", "webhooks"),
    ("custom fields on contacts", "custom-fields"),
    ("Slack notifications", "slack"),
    ("multi-currency pricing", "multi-currency"),
    ("an exportable audit log", "audit-log"),
    ("single sign-on with Okta", "sso"),
    ("per-user permissions", "permissions"),
    ("a Gantt chart view", "gantt"),
    ("scheduled reports by email", "reports"),
    ("a native Linux app", "linux"),
    ("bulk editing of tasks", "bulk-edit"),
    ("two-way Google Sheets sync", "google-sheets"),
    ("customer-facing status pages", "status-page"),
]

GREETINGS = [
    "[Hi|Hello|Hey] [there|team|support|folks],",
    "[Hi|Hello] {brand} [support|team|people],",
    "Good [morning|afternoon|evening],",
    "[Dear|Hello] [support team|customer service],",
]

SHOP_INTROS = [
    "[I've|I have] [ordered from|shopped with] {brand} [a few times|for years] [without problems|and usually love it|].",
    "[First time|Second time] ordering from {brand}[ and|,] [so far it's not going well|I hope this is a one-off].",
    "[I'm|I am] writing [from|in] {city} about [an online order|my recent order].",
]

INTROS = [
    "[I'm|I am] the {role} at {company}[ in {city}|].",
    "[Long-time|Loyal|Longtime] customer here, [on the {plan} plan|using {brand}] since {year}.",
    "[I run|I manage|I look after] the {brand} account for {company}.",
    "We [have been on|have been using] {brand} [for about {n} months|since {month} {year}|for a couple of years now].",
    "[Quick|Small|Short] context: [I use|we use] {brand} [every day|daily|for most of our work] at {company}.",
]

URGENCY = {
    "urgent": [
        "This is [blocking|stopping] [our whole team|{seats} people|everyone at {company}] [right now|today|as we speak].",
        "We have [a payroll run|a client demo|a product launch|an external audit] [tomorrow morning|in {hours} hours|this afternoon] and [can't|cannot] [move forward|proceed|get anything done].",
        "[Please treat|I would ask you to treat] this as urgent[, it is costing us money every hour| because customers are waiting|].",
        "[I need|We need] [someone|a person] on this [immediately|today|in the next hour or two] [please|if at all possible|].",
    ],
    "high": [
        "I [need|would need] this [sorted|resolved|fixed] [before {weekday}|by the end of the week|within a day or two].",
        "It [is|has been] [holding up|affecting] [our month-end close|my customers|my work|the whole office] [quite a bit|badly|more than I'd like].",
        "[A quick|A fast|An early] [reply|response|answer] [would be great|would really help|is much appreciated] since [my deadline is close|people are waiting on me|this affects billing].",
    ],
    "medium": [
        "[It's not|This is not] an emergency, but [I'd like|I would appreciate|it would be nice to get] [an answer|a fix|an update] [this week|soon|when you can].",
        "[Whenever|When] [someone|your team] [has|gets] a [moment|minute|chance] this week[, please take a look|, I'd appreciate a reply].",
        "We can [work around|live with] it for [now|a few days], but [not forever|it's getting old|I'd rather not keep doing that].",
    ],
    "low": [
        "[No rush on this|Whenever you get a chance is fine|This is low priority for me][, just curious|, just letting you know|, just wanted to flag it|].",
        "[Not urgent at all|Absolutely no hurry][, it can wait until next week|, take your time|].",
        "[Just|Only] [putting it on your radar|mentioning it] in case [it helps|others hit it too|it's useful].",
    ],
}

TONE = {
    "negative": [
        "[Honestly|Frankly|To be honest], this is [really|incredibly|pretty] [frustrating|annoying|disappointing].",
        "I'm [losing patience|getting fed up|not happy] [with this|at this point|with how this is going].",
        "This is the [second|third|fourth] time [I've had to write in about this|I'm contacting you about it|I'm chasing this].",
        "[I expected better|This isn't what I expected|I didn't sign up for this] [for what we pay|from {brand}|after {n} months as a customer].",
    ],
    "neutral": [
        "",
        "",
        "[Just|Simply] [flagging|reporting] it so [you're aware|the right team sees it].",
        "Not sure if this is [already known|a known thing|on your list already].",
    ],
    "positive": [
        "[Otherwise|Apart from this] I [really|genuinely|absolutely] [love|enjoy] {brand}[, keep it up|, great work|].",
        "Your team has been [great|super helpful|lovely] [in the past|so far|every time], so I'm [sure|confident] this is [easy|quick] to sort out.",
        "Thanks for [building|running|making] such a [solid|great|reliable] [product|service|tool].",
    ],
}

CLOSINGS = [
    "[Thanks|Thank you|Many thanks|Cheers] [in advance|for your help|for looking into it|].",
    "[Let me know|Tell me] if you need [anything else|more details|screenshots] from me.",
    "[Appreciate|Grateful for] [the help|any help|your time].",
    "[Looking forward to|Waiting for] your [reply|answer].",
]

SIGNOFFS = [
    "{first}",
    "{first} {last}",
    "- {first}",
    "{first} ({company})",
    "Best, {first} {last}",
    "Regards, {first}",
    "Kind regards, {first} {last}",
]

ATTEMPTS = {
    "billing": [
        "I [already|] [checked|looked at] the [billing page|invoices tab|payment history] but [nothing there explains it|it doesn't say why|it just shows the amount].",
        "[My bank|The card issuer] [says|told me] the charge [is legitimate|came from you|was authorised on your side].",
    ],
    "account_access": [
        "I [already|] [tried|attempted] [an incognito window|a different browser|the mobile app] and [got the same result|it fails there too].",
        "[Clearing cookies|Resetting my password|Restarting my laptop] [did not help|changed nothing|made no difference].",
    ],
    "shipping": [
        "I [already|] [contacted|called|messaged] {carrier} and they [told me to ask you|said it's on your end|couldn't help].",
        "[I checked|We looked] [with the neighbours|at the front desk|in the mailroom] and [nothing is there|nobody has it].",
    ],
    "bug_report": [
        "I [already|] [tried|did] [reinstalling the app|clearing the cache|logging out and back in] [but it still happens|with no luck|and nothing changed].",
        "It [happens|reproduces] [every time|about half the time|on two different machines] [for me|here|on our side].",
    ],
    "feature_request": [
        "[Right now|Currently|At the moment] we [work around it|handle this] [with a spreadsheet|by hand|with a separate tool], which [is clunky|takes ages|is error prone].",
        "[A few|Several|Most] [people on my team|of our staff|colleagues] [have asked|keep asking] for [this|it] too.",
    ],
    "refund": [
        "[I have|I've got] the [receipt|order confirmation|bank statement] [if you need it|ready to send|saved].",
        "[Store credit|A voucher|A replacement] [won't work|is not useful|doesn't help] for me, I'd [prefer|like] the money back.",
    ],
    "cancellation": [
        "I [looked|searched] [in the settings|on the account page|in the app] but [couldn't find a cancel option|there is no cancel button|there is nowhere to cancel].",
        "[Please|Kindly] [don't|do not] [offer me a discount|try to keep me on], [my mind is made up|we've decided|it's final].",
    ],
    "data_privacy": [
        "[I've read|I went through] your privacy policy and [it isn't clear|it doesn't say|I can't tell] [how long you keep this|who has access to it].",
        "[Please|Kindly] [confirm|let me know] in writing [once it's done|when this is complete|what you've done].",
    ],
    "performance": [
        "Our [internet|connection|network] is [fine|fast|solid], [other sites load instantly|speed tests look normal|nothing else is slow].",
        "It [started|began] [around|after] {weekday} [last week|this week|'s update] and [has gotten worse|hasn't improved|is getting worse].",
    ],
}

# Each sub-issue: problem sentence templates, detail templates, summary templates,
# tag pool, allowed priorities (weighted by repetition), allowed sentiments, brand source.
SUBISSUES = {
    "billing": [
        dict(key="double_charge",
             problem=["[I was|We were|My card was] charged twice for the {month} [invoice|bill|renewal] on our {plan} plan, {amount} [each time|both times].",
                      "[Looking at|Going through|Checking] my [bank statement|card statement|banking app] I see two identical charges of {amount} from {brand} on {date}."],
             details=["[Both|The two] charges [show|appear] [on the same day|a few minutes apart] but [only one|just one] invoice ({invoice}) [is listed|shows up] in [the billing page|my account].",
                      "We [only have|have just] {seats} [seats|users|licenses] so [there is no reason|it makes no sense] for a second payment.",
                      "My card ends in {card4} [if that helps you find it|in case you need it|for reference]."],
             summary=["Customer charged twice ({amount}) for the {month} {plan} plan invoice",
                      "Duplicate {amount} charge from {brand} on {date} with only one invoice"],
             tags=["double-charge", "invoice", "card-payment", "duplicate-payment"],
             priorities=["high", "high", "medium", "urgent"], sentiments=["negative", "negative", "neutral"]),
        dict(key="wrong_amount",
             problem=["[Our|My] {month} invoice {invoice} [came to|shows|is for] {amount} [instead of|when it should be] {amount2}.",
                      "[The|This month's] [renewal|invoice] [charged|billed] us {amount} [but|although] our {plan} plan [is listed at|costs] {amount2}."],
             details=["[Nobody|No one] [added|invited] [users|seats] [this month|recently], we [still have|are at] {seats} [seats|people].",
                      "[It looks like|I suspect] [a price increase|an add-on|a tax line] [was applied|got added] [without notice|that we never agreed to].",
                      "[The line items|The invoice breakdown] [list|show] [a {addon} add-on|an {addon} charge] we [never enabled|didn't ask for]."],
             summary=["Invoice {invoice} billed {amount} instead of expected {amount2}",
                      "Customer disputes {amount} {month} charge on the {plan} plan"],
             tags=["invoice", "overcharge", "pricing", "add-on"],
             priorities=["medium", "medium", "high"], sentiments=["negative", "neutral"]),
        dict(key="card_declined",
             problem=["[My|Our] payment [keeps failing|was declined|won't go through] when [renewing|paying for] the {plan} plan[ with error {ecode}|].",
                      "[I got|We received] [an email|a warning] that the {month} payment for {brand} [failed|bounced] and the account [will be|is about to be] suspended."],
             details=["The card [is valid|works everywhere else|has plenty of credit] and [expires|runs until] {expiry}.",
                      "[I tried|We tried] [a second card|updating the billing address|PayPal instead] [and it still fails|with the same result].",
                      "[Our bank|The bank] [sees no|shows no] [declined attempt|blocked transaction] on [their|its] side."],
             summary=["Renewal payment for {plan} plan failing and account at risk of suspension",
                      "Customer card declined on {brand} renewal despite card being valid"],
             tags=["payment-failed", "renewal", "card-declined", "suspension-risk"],
             attempts=["I [already|] [called|contacted] [my bank|the card issuer] and they [see no problem|say everything is fine] on their end."],
             priorities=["high", "urgent", "medium"], sentiments=["negative", "neutral"]),
        dict(key="invoice_details",
             problem=["[Could you|Can you|Is it possible to] [add|print] our VAT number {vat} on [the invoices|invoice {invoice}|all future invoices]?",
                      "[Our|The] invoices [show|list] [the wrong company name|an old address|my personal name] and [our accountant|finance] [needs|wants] them [corrected|reissued]."],
             details=["The [legal|registered] name [should be|is] {company} [and the address is in {city}|since we incorporated|as of {month}].",
                      "[We need|Finance needs] [the corrected copies|updated PDFs] for [{month} and {month2}|the last two quarters|our tax filing]."],
             summary=["Customer asks to correct company details on {brand} invoices",
                      "Request to reissue invoice {invoice} with VAT number and legal name"],
             tags=["invoice", "vat", "billing-details"],
             attempts=["[Our accountant|Our bookkeeper|Finance] [flagged|spotted|caught] [this|it] [during the audit|at quarter end|last week]."],
             priorities=["low", "medium", "low"], sentiments=["neutral", "positive"]),
    ],
    "account_access": [
        dict(key="password_reset",
             problem=["[I never|I don't] [receive|get] the password reset email [for|on] {email}[, not even in spam|, even after several tries|].",
                      "[The|Your] password reset link [says it has expired|gives error {ecode}|loops back to the login page] [as soon as|the moment] I click it."],
             details=["[I requested|We requested] [it|a new link] [{n} times|several times|twice] [over the last hour|since this morning|yesterday].",
                      "[Other|All other] emails from [you|{brand}] [arrive fine|come through|show up] [so it's not my inbox|normally]."],
             summary=["Customer cannot reset password because reset email or link fails",
                      "Password reset link for {email} not working with error {ecode}"],
             tags=["password-reset", "login", "email-delivery"],
             priorities=["high", "medium", "high"], sentiments=["negative", "neutral"]),
        dict(key="two_factor",
             problem=["[I got|I have] a new phone ({device}) and [my authenticator codes|the two-factor codes] [no longer work|are rejected|don't match] [for|on] {brand}.",
                      "[I lost|I broke|Someone stole] my phone and [can't|cannot] get past the two-factor [screen|prompt|step] [to log in|anymore]."],
             details=["[I do not|I don't] have [the backup codes|my recovery codes] [anymore|saved anywhere|because nobody told me to keep them].",
                      "[I can|Happy to] [verify|prove] [my identity|who I am] [with the last invoice number {invoice}|with a photo ID|however you need]."],
             summary=["Customer locked out by two-factor authentication after changing phone",
                      "User cannot pass two-factor login on {brand} without backup codes"],
             tags=["2fa", "lockout", "identity-verification"],
             priorities=["high", "urgent", "high"], sentiments=["negative", "neutral"]),
        dict(key="account_locked",
             problem=["[My|Our] account [{email}|for {company}] [was locked|got suspended|is disabled] [after|following] [too many login attempts|a security check|what looks like a mistake].",
                      "[When I log in|Logging in] [I get|shows] [the message|an error] \"{ecode}: account temporarily disabled\" [and nothing else|with no explanation]."],
             details=["[Nobody|No one] [else|on our side] [has|had] [tried|attempted] to log in, [as far as I know|I checked with the team].",
                      "[It has|It's] been [locked|stuck like this] for [{n} hours|two days|since {weekday}] [already|now]."],
             summary=["Account {email} locked or disabled with error {ecode}",
                      "Customer account locked after failed logins and needs reactivation"],
             tags=["account-locked", "login", "security"],
             priorities=["urgent", "high", "high"], sentiments=["negative", "negative", "neutral"]),
        dict(key="sso_invite",
             problem=["[A new hire|Our new colleague|My teammate] {first2} [never got|can't accept|cannot use] the invite to our {brand} workspace.",
                      "[Since we switched|After switching] to [Google|Microsoft|Okta] sign-in, [some|two|three] [users|staff members] [get|see] error {ecode} [at login|when signing in]."],
             details=["[The invite|Their invitation] [shows|is listed] as pending [in the admin panel|under members] [since {weekday}|for a week].",
                      "[Their|The] [email domain|address] [matches|is the same as] ours, so [it should|I expected it to] work."],
             summary=["Team member cannot join {brand} workspace via invite or single sign-on",
                      "Workspace users blocked at sign-in with error {ecode} after SSO change"],
             tags=["invite", "sso", "workspace", "team-access"],
             priorities=["medium", "high", "medium"], sentiments=["neutral", "negative"]),
    ],
    "shipping": [
        dict(key="late",
             problem=["[I ordered|We ordered|I bought] {a_item} [on|back on] {date} (order {order}) and it [still hasn't arrived|is still not here|never showed up].",
                      "[My|Our] order {order} [was supposed to|should] arrive [by|on] {date} but [tracking|the {carrier} page] [hasn't updated|has been stuck] for [{n} days|a week]."],
             details=["[The|Your] tracking number {tracking} [just says|only shows] \"[label created|in transit|awaiting collection]\" [since|from] {date2}.",
                      "[It was|This was] [meant as|supposed to be] a [birthday|wedding|housewarming] gift [for|on] {weekday}.",
                      "[I paid|We paid] {amount} [extra|for] express shipping [for exactly this reason|so it would be on time]."],
             summary=["Order {order} for {a_item} delayed with tracking not updating",
                      "Customer order {order} not delivered by promised date {date}"],
             tags=["late-delivery", "tracking", "order-status"],
             priorities=["medium", "high", "medium"], sentiments=["negative", "neutral"]),
        dict(key="damaged",
             problem=["The {item} from order {order} [arrived|came] [damaged|broken|with a cracked panel] [and|so] [I can't use it|it's unusable].",
                      "[The box|The parcel] for order {order} was [crushed|soaked|torn open] and the {item} inside [is scratched|has a dent|is missing a part]."],
             details=["[I have|I took] [photos|pictures] of [the box|the packaging and the item] [and can send them|if you need them].",
                      "[The courier|The {carrier} driver] [left it|dropped it] [outside in the rain|at the wrong door|on the porch] [without knocking|without a signature]."],
             summary=["{item} in order {order} arrived damaged and customer wants a replacement",
                      "Customer received damaged {item} from order {order} via {carrier}"],
             tags=["damaged-item", "replacement", "carrier"],
             attempts=["I [already|] [contacted|called|messaged] {carrier} and they [told me to ask you|said it's on your end|couldn't help]."],
             priorities=["medium", "high"], sentiments=["negative", "negative", "neutral"]),
        dict(key="wrong_address",
             problem=["[I just|I] [realised|noticed] order {order} [is going|was sent] to my old address in {city} [instead of|rather than] [my new one|the new flat].",
                      "[Can you|Could you|Is it possible to] [change|update] the delivery address on order {order} [before it ships|while it's still processing]?"],
             details=["[The right|The correct] address is {street}[, {city}|].",
                      "[It hasn't|It has not] [shipped|left the warehouse] yet [according to|based on] the [order page|confirmation email]."],
             summary=["Customer needs delivery address changed on order {order} before shipping",
                      "Order {order} addressed to an old {city} address and needs updating"],
             tags=["address-change", "order-update", "delivery"],
             attempts=["I [tried|looked for a way] to [edit|change] the address [on the order page|in my account] but [it's greyed out|there's no option for it]."],
             priorities=["high", "medium", "urgent"], sentiments=["neutral", "neutral", "negative"]),
        dict(key="delivered_not_received",
             problem=["[Tracking|{carrier}] [says|shows] order {order} was delivered [on {date}|yesterday|at {time}] but [nothing|no parcel] [arrived|was left here].",
                      "[I got|I received] a [delivered|drop-off] notification for {tracking} yet the {item} [is nowhere to be found|never reached me]."],
             details=["The [delivery photo|proof of delivery] shows [a door|a building] that [isn't mine|I don't recognise].",
                      "[I live|We live] in [an apartment|a block of flats|a shared house] [and checked with the concierge|with a locked lobby]."],
             summary=["Order {order} marked delivered by {carrier} but never received",
                      "Customer did not receive {item} despite delivered tracking status"],
             tags=["missing-parcel", "delivered-not-received", "carrier"],
             priorities=["high", "medium", "high"], sentiments=["negative", "neutral"]),
    ],
    "bug_report": [
        dict(key="crash",
             problem=["The {brand} app [crashes|closes itself|freezes and quits] [whenever|every time] I [open|tap] [the reports tab|a shared project|the settings screen] on my {device}.",
                      "[Since|After] [the latest update|version {version}] {brand} [crashes|force closes] [on startup|right after login|when I attach a file] on {os}."],
             details=["[The crash report|The error dialog] [mentions|shows] {ecode} [and a long stack trace|before it closes|and nothing else].",
                      "[It worked|Everything was fine] [until|before] [last {weekday}|the update|this week]."],
             summary=["{brand} app crashes on {device} after version {version} update",
                      "App crash on {os} with error {ecode} when opening a screen"],
             tags=["crash", "mobile", "regression", "app-update"],
             priorities=["high", "medium", "urgent"], sentiments=["negative", "neutral"]),
        dict(key="export_broken",
             problem=["[Exporting|Downloading] [reports|invoices|our data] to [CSV|PDF|Excel] [produces|gives me] [an empty file|garbled characters|a file with missing rows].",
                      "[The|Your] export button [does nothing|spins forever|returns error {ecode}] [in {browser}|for any date range over a month|since {weekday}]."],
             details=["[Small|Short] exports [work|are fine] but [anything|everything] over [{n} hundred rows|a few hundred rows] [fails|breaks].",
                      "[Accented names|Currency symbols|Dates] [come out|show up] as [question marks|broken characters|numbers] in the file."],
             summary=["Data export from {brand} produces broken or empty files",
                      "Export feature failing with error {ecode} in {browser}"],
             tags=["export", "csv", "data-integrity"],
             priorities=["medium", "high", "medium"], sentiments=["neutral", "negative"]),
        dict(key="sync",
             problem=["[Changes|Edits] [I make|made] on [my laptop|the web app] [don't show up|never appear|take hours to appear] on [my {device}|the mobile app|my colleague's screen].",
                      "{brand} [sync|syncing] [is broken|stopped working|keeps failing] [between devices|for our team] with [the message|error] {ecode}."],
             details=["[A few|Several|Some] [notes|records|entries] [got duplicated|disappeared|were overwritten] [after|during] the last sync.",
                      "[Logging out|Signing out] and back in [forces|triggers] a sync [but only sometimes|once, then it stops again]."],
             summary=["Data not syncing between devices in {brand} with error {ecode}",
                      "Sync failure causing duplicated or missing records across devices"],
             tags=["sync", "data-loss", "multi-device"],
             priorities=["high", "high", "medium", "urgent"], sentiments=["negative", "neutral"]),
        dict(key="ui_glitch",
             problem=["[On|In] {browser} the [save button|date picker|sidebar] [is cut off|overlaps the form|disappears] [so I can't|which means I can't] [finish editing|pick a date|navigate].",
                      "[The|Your] [dashboard|calendar view|settings page] [shows|renders] [blank|duplicated|misaligned] [widgets|columns|labels] [since|after] [the redesign|version {version}]."],
             details=["[My|The] screen [is a standard|is a normal] [laptop display|1080p monitor|13 inch screen] [with default zoom|at 100 percent zoom].",
                      "[A screenshot|Screenshots] [is|are] [attached|available] [if that helps|on request]."],
             summary=["Layout glitch in {browser} hides controls on the {brand} interface",
                      "Interface elements render incorrectly after version {version}"],
             tags=["ui", "browser", "layout"],
             priorities=["low", "medium", "low"], sentiments=["neutral", "positive", "negative"]),
    ],
    "feature_request": [
        dict(key="new_feature",
             problem=["[Would it be possible to|Could you|Any chance you could] add {feature} to {brand}?",
                      "[We'd love|I'd really like|Our team would love] [to see|to have] {feature} in {brand}[ at some point|, if it's on the roadmap|]."],
             details=["[It would|That would] [save us|save me] [hours|a lot of time|about {n} hours] [every week|each month|during month end].",
                      "[Competitors|Other tools we tried] [already|] [offer|have] [something like this|this], [which is|and that's] [the one thing|the main thing] we miss."],
             summary=["Customer requests {feature} be added to {brand}",
                      "Feature request for {feature} to save the team manual work"],
             tags=["feature-request", "roadmap"],
             priorities=["low", "low", "medium"], sentiments=["positive", "neutral", "positive"]),
        dict(key="integration",
             problem=["[Do you|Are you planning to|Is there any plan to] [support|integrate with] [Xero|QuickBooks|Shopify|HubSpot|Zapier|Notion] [in|for] {brand}?",
                      "[We|I] [really|] [need|want] {brand} to [connect to|talk to|push data into] [our accounting software|our online store|our CRM] [automatically|without manual copying]."],
             details=["[Today|Right now] [someone|I] [copies|exports] [the data|everything] [by hand|manually] [every {weekday}|each week], which [is slow|invites mistakes].",
                      "[We'd|We would] [happily|gladly] [pay more|upgrade to {plan}] [for|if it included] this."],
             summary=["Customer asks for a native integration between {brand} and their other tools",
                      "Integration request to stop manual data copying out of {brand}"],
             tags=["integration", "feature-request", "automation"],
             priorities=["low", "medium", "low"], sentiments=["neutral", "positive"]),
        dict(key="improvement",
             problem=["[The|Your] [search|filter|report builder] in {brand} [would be|could be] [much|far] more useful [if it|with the ability to] [remembered|saved] [my last filters|custom views].",
                      "[A small|One small|A tiny] suggestion: let us [rename|reorder|colour code] [projects|boards|categories] [in|inside] {brand}."],
             details=["[We|I] [have|manage] [over|around|about] {n}0 [projects|clients|boards] so [scrolling|finding things] [is painful|takes forever].",
                      "[It's|This is] [a minor|a small] [thing|request] but [it would make|it'd make] [daily use|my day] [much nicer|smoother]."],
             summary=["Suggestion to improve saved filters and organisation in {brand}",
                      "Customer suggests a usability improvement for projects in {brand}"],
             tags=["improvement", "usability", "feature-request"],
             priorities=["low", "low"], sentiments=["positive", "neutral"]),
    ],
    "refund": [
        dict(key="return_refund",
             problem=["I [returned|sent back] the {item} from order {order} [on|back on] {date} and [still haven't|have not yet] [received|seen] the refund of {amount}.",
                      "[Your|The] warehouse [confirmed|signed for] my return of order {order} [weeks ago|on {date}], but the {amount} [refund|credit] [never arrived|is missing]."],
             details=["[The|My] return tracking [number|code] is {tracking} [and it shows as delivered|if you need it].",
                      "[Your|The] policy [says|promises] refunds [within|in] [5 to 7|10] business days, [and|but] it has been [{n} weeks|almost a month]."],
             summary=["Refund of {amount} for returned order {order} not received",
                      "Customer still waiting on refund after return of {item}"],
             tags=["refund", "return", "order"],
             priorities=["medium", "high", "medium"], sentiments=["negative", "neutral"]),
        dict(key="subscription_refund",
             problem=["[I was|We were] [charged|billed] {amount} for [an annual|a yearly] renewal of {brand} that [I|we] [forgot about|didn't want|meant to cancel], [can I|could we] get [a refund|our money back]?",
                      "[Our|My] {plan} plan [auto renewed|renewed automatically] [on|yesterday,] {date} for {amount} [and|but] [we|I] [stopped using|haven't used] {brand} [in months|since {month}]."],
             details=["[We|I] [haven't|have not] [logged in|used the account] [since the renewal|at all this year|for ages].",
                      "[I understand|I get that] [it's|this is] [my mistake|on me], but [a partial refund|a prorated refund] [would be fair|would be appreciated]."],
             summary=["Customer requests refund of {amount} {brand} annual renewal",
                      "Refund request for unwanted {plan} plan auto renewal on {date}"],
             tags=["refund", "auto-renewal", "subscription"],
             priorities=["medium", "medium", "high"], sentiments=["neutral", "negative", "positive"]),
        dict(key="service_refund",
             problem=["[Because of|Due to] the outage on {date}, [we|our team] [couldn't|could not] use {brand} [for most of the day|for {hours} hours|all afternoon] and [I'd like|I want] [a credit|a refund].",
                      "[We|I] [paid|were charged] {amount} for [an onboarding session|a setup package|priority support] that [never happened|was cancelled by your side|nobody showed up to]."],
             details=["[Our|The] [contract|plan] [mentions|promises] [99.9 percent uptime|a service level] [so|and] [this seems fair|I assume credits apply].",
                      "[I|We] [emailed|contacted] [your|the] [account manager|sales rep] [twice|on {weekday}] [with no reply|and heard nothing]."],
             summary=["Customer asks for credit or refund after {brand} service failure",
                      "Refund request for {amount} paid for a service not delivered"],
             tags=["refund", "sla", "service-credit"],
             priorities=["medium", "high"], sentiments=["negative", "neutral"]),
    ],
    "cancellation": [
        dict(key="cancel_sub",
             problem=["[Please|Kindly|I'd like you to] cancel [my|our] {brand} subscription [effective immediately|at the end of this billing period|before the next renewal].",
                      "[We have decided|We've decided|I've decided] to [stop using|move away from|leave] {brand} and [want|need] [to cancel|the {plan} plan cancelled]."],
             details=["[The account|Our account] is [registered|under] {email}[ and the plan is {plan}|].",
                      "[We're|We are] [moving to|switching to] [another tool|an in-house system|a cheaper option] [for budget reasons|because of the price increase|as part of a merger]."],
             summary=["Customer wants to cancel the {brand} {plan} subscription",
                      "Cancellation request for account {email} before next renewal"],
             tags=["cancellation", "subscription", "churn"],
             priorities=["medium", "medium", "high"], sentiments=["neutral", "negative", "neutral"]),
        dict(key="cancel_order",
             problem=["[Can you|Could you] cancel order {order} [for the|with the] {item}[, I placed it by mistake| before it ships|]?",
                      "Please cancel order {order} [for the|with the] {item}[, I placed it by mistake| before it ships|].",
                      "I [accidentally|mistakenly] [ordered|placed] [two|a second] {item} [orders|order] ({order}) and [need|want] [one|it] cancelled."],
             details=["[The order|It] [was placed|went through] [about|only] [{n} minutes|an hour|{hours} hours] ago[ so it shouldn't have shipped yet|].",
                      "[Please|Kindly] [refund|return] the {amount} to the [original card|same card|card ending {card4}]."],
             summary=["Customer asks to cancel order {order} for {a_item} before shipping",
                      "Accidental duplicate order {order} needs cancelling and refunding"],
             tags=["order-cancellation", "duplicate-order"],
             priorities=["high", "medium", "urgent"], sentiments=["neutral", "neutral", "negative"]),
        dict(key="cancel_blocked",
             problem=["[The|Your] cancel button [gives|throws] error {ecode} [every time|whenever] I try to end [my|our] {brand} [plan|subscription].",
                      "I [cancelled|ended] [my|our] {brand} subscription [in|back in] {month} but [you|{brand}] [charged|billed] me again [on|for] {date}."],
             details=["[I have|I've got] the cancellation confirmation email [from|dated] {date2}.",
                      "[This is|That's] {amount} [I|we] [shouldn't have paid|never agreed to]."],
             summary=["Customer unable to cancel {brand} subscription or billed after cancelling",
                      "Cancellation not processed and customer charged {amount} again"],
             tags=["cancellation", "billing-after-cancel", "error"],
             priorities=["high", "high", "medium"], sentiments=["negative"]),
    ],
    "data_privacy": [
        dict(key="deletion",
             problem=["[Under|Per|According to] [GDPR|CCPA|data protection law], [please|I ask you to] delete [all|every bit of] [my personal data|the data you hold on me] [linked to|for] {email}.",
                      "[I want|I'd like] [my|our] {brand} account and [all|any] [associated|related] data [permanently|fully] [erased|deleted|removed]."],
             details=["[This|That] includes [backups|analytics data|support tickets|marketing lists] [as far as legally possible|where you can].",
                      "[Please|Kindly] [confirm|tell me] [the date|when] [it will be|the deletion is] [completed|done]."],
             summary=["Customer requests deletion of personal data for {email}",
                      "Data erasure request for the {brand} account and related records"],
             tags=["gdpr", "data-deletion", "privacy"],
             priorities=["medium", "high", "medium"], sentiments=["neutral", "negative"]),
        dict(key="export_request",
             problem=["[I would like|I'd like|Please send me] a [copy|full export] of [all|the] personal data {brand} [holds|stores|keeps] about me.",
                      "[Can you|Could you] [tell me|explain] what [data|information] {brand} [collects|shares] [with third parties|with advertisers|from my {device}]?"],
             details=["[A|The] [machine readable|JSON or CSV|standard] format [is fine|works for me|would be ideal].",
                      "[I noticed|I saw] [ads|emails] [that|which] [seem|look] [related|linked] to [my account activity|things I only did in {brand}]."],
             summary=["Customer requests a copy of personal data held by {brand}",
                      "Subject access request about data {brand} collects and shares"],
             tags=["data-access", "privacy", "gdpr"],
             priorities=["medium", "low", "medium"], sentiments=["neutral", "negative"]),
        dict(key="breach_concern",
             problem=["I [received|got] a [phishing|suspicious] email [that|which] [used|quoted] my {brand} order {order} [and my full name|and address].",
                      "[Someone|An unknown person] [logged into|accessed] [my|our] {brand} account from {city} [on|at] {date} [and|but] it wasn't [me|us]."],
             details=["[Has|Was] there [a breach|a data leak|unauthorised access] [on your side|at {brand}|recently]?",
                      "[I've|I have] [changed|reset] [my password|all passwords] [and|but] [I'm worried|I'm concerned] about [my card details|what else was seen]."],
             summary=["Customer suspects data leak after phishing email using {brand} order details",
                      "Possible unauthorised access to account from {city} on {date}"],
             tags=["security", "possible-breach", "phishing"],
             priorities=["urgent", "high", "high"], sentiments=["negative"]),
    ],
    "performance": [
        dict(key="slow_pages",
             problem=["[Pages in {brand} take|Everything in {brand} takes] [{n}0 seconds|almost a minute|forever] to load [since|after] {weekday}[, especially the dashboard|].",
                      "[The|Our] {brand} [dashboard|reports page|project list] [has become|is now] [painfully|extremely|really] slow [for everyone|for the whole team|on every browser]."],
             details=["[It's|It is] [worst|slowest] [in the morning|around lunchtime|at the start of the day] [when|as] [everyone logs in|people start work].",
                      "[The|Our] [account|workspace] has [about|roughly|around] {n}000 [records|contacts|tasks], [which|but that] [wasn't|never was] a problem before."],
             summary=["{brand} pages loading very slowly for the whole team",
                      "Severe slowness on the {brand} dashboard since {weekday}"],
             tags=["slow", "latency", "dashboard"],
             priorities=["high", "medium", "high"], sentiments=["negative", "neutral"]),
        dict(key="timeouts",
             problem=["[Saving|Uploading|Submitting] [a form|attachments|large files] in {brand} [times out|fails with a timeout|returns error {ecode}] [most of the time|half the time|every time].",
                      "[We keep getting|We are seeing] [gateway timeouts|504 errors|error {ecode}] [on|when using] the {brand} API [since|after] [{date}|the last release]."],
             details=["[Requests|Calls] that [used to|normally] take [under a second|a second or two] now [take|hang for] [over {n}0 seconds|a minute].",
                      "[Our|The] [integration|nightly job|sync script] [has failed|failed] [{n} nights in a row|three times this week] because of it."],
             summary=["Timeouts and error {ecode} when saving or calling the {brand} API",
                      "Requests to {brand} timing out and breaking customer integration"],
             tags=["timeout", "api", "reliability"],
             priorities=["high", "urgent", "medium"], sentiments=["negative", "neutral"]),
        dict(key="battery_mobile",
             problem=["The {brand} [mobile app|app] [drains|eats] my {device} battery [really fast|in a few hours|overnight] [since|after] [the update|version {version}].",
                      "[Scrolling|Typing|Switching tabs] in the {brand} app on my {device} [is|feels] [laggy|choppy|sluggish] [and the phone gets hot|with noticeable delays]."],
             details=["[Battery settings|The phone's battery page] [show|says] {brand} [used|is responsible for] [{n}0 percent|most] of the [battery|power] [today|yesterday].",
                      "[Other|Similar] apps [run|work] [fine|smoothly] on the same [phone|device]."],
             summary=["{brand} mobile app draining battery and lagging on {device}",
                      "Mobile app performance degraded on {device} and the phone runs hot"],
             tags=["mobile", "battery", "lag"],
             priorities=["medium", "low", "medium"], sentiments=["negative", "neutral", "positive"]),
    ],
}

# Categories whose tickets refer to a physical shop rather than a software product.
SHOP_SUBISSUES = {"late", "damaged", "wrong_address", "delivered_not_received", "return_refund", "cancel_order"}

# Word substitutions used for light rewording of near-duplicates and near leaks.
SYNONYMS = [
    ("charged", "billed"), ("really", "very"), ("problem", "issue"), ("tried", "attempted"),
    ("shows", "displays"), ("please", "kindly"), ("started", "began"), ("fix", "resolve"),
    ("still", "yet again"), ("need", "require"), ("help", "assistance"), ("every time", "each time"),
    ("broken", "not working"), ("quick", "fast"), ("order", "purchase"), ("received", "gotten"),
    ("Thanks", "Thank you"), ("fine", "okay"), ("since", "ever since"), ("slow", "sluggish"),
    ("would", "will"), ("can't", "cannot"), ("I'm", "I am"), ("don't", "do not"),
]

INSERTS = ["Also, ", "Honestly, ", "Again, ", "Just so you know, ", "FYI, "]
