"""Word pools for fake but plausible workspace content (people, companies, messages).

Plain data only; the generator picks from these with its own seeded `Random`.
"""

from __future__ import annotations

# fmt: off
FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Aisha", "Alejandro", "Amara", "Anders", "Ananya", "Arjun", "Astrid", "Beatriz",
    "Bilal", "Bruno", "Camille", "Carmen", "Chen", "Chloe", "Dario", "Dmitri", "Elena", "Elif",
    "Emeka", "Emma", "Farah", "Felix", "Fatima", "Freya", "Gabriel", "Grace", "Hana", "Hamza",
    "Hiroshi", "Ingrid", "Isaac", "Ivy", "Jamal", "Javier", "Jin", "Joao", "Julia", "Kai",
    "Kavya", "Kenji", "Laila", "Lars", "Leah", "Leon", "Lina", "Lucas", "Luca", "Maya", "Mateo",
    "Mei", "Mia", "Mohammed", "Nadia", "Naomi", "Nia", "Niklas", "Noah", "Nora", "Olivia",
    "Omar", "Oscar", "Pablo", "Priya", "Quentin", "Rafael", "Rania", "Ravi", "Rosa", "Ruth",
    "Sami", "Sara", "Sebastian", "Sofia", "Sven", "Tariq", "Thea", "Theo", "Tomas", "Uma",
    "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zara", "Zoe", "Ben", "Cora", "Dev",
    "Eli", "Finn", "Gia", "Hugo", "Iris", "Jonas", "Kira", "Liam", "Mila", "Nils",
)

LAST_NAMES: tuple[str, ...] = (
    "Abbott", "Adeyemi", "Ahmed", "Alvarez", "Andersen", "Bauer", "Becker", "Bianchi", "Brooks",
    "Campbell", "Castillo", "Chen", "Costa", "Dubois", "Dunn", "Eriksen", "Evans", "Fischer",
    "Fernandes", "Fujita", "Garcia", "Gonzalez", "Gupta", "Hansen", "Hartmann", "Hayes", "Hoang",
    "Ibrahim", "Ito", "Jensen", "Johansson", "Kaur", "Kim", "Kowalski", "Kruger", "Larsen",
    "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Morales", "Murphy", "Nakamura", "Nguyen",
    "Nilsson", "Novak", "Okafor", "Olsen", "Ortiz", "Park", "Patel", "Petrov", "Quinn", "Ramos",
    "Reyes", "Ricci", "Rossi", "Sato", "Schmidt", "Schneider", "Silva", "Singh", "Sousa",
    "Suzuki", "Tanaka", "Torres", "Varga", "Vasquez", "Wagner", "Walsh", "Weber", "Wong",
    "Yamamoto", "Yilmaz", "Zhang", "Zimmermann", "Osei", "Mensah", "Haddad", "Farouk", "Lindqvist",
)

COMPANY_ROOTS: tuple[str, ...] = (
    "Acme", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Blue Harbor", "Bright", "Cascade",
    "Cedar", "Cinder", "Cobalt", "Copper", "Crest", "Delta", "Ember", "Evergreen", "Falcon",
    "Fjord", "Granite", "Harbor", "Helix", "Horizon", "Indigo", "Iron", "Juniper", "Keystone",
    "Kestrel", "Lumen", "Maple", "Meridian", "Nimbus", "North", "Nova", "Oak", "Onyx", "Orbit",
    "Pioneer", "Prism", "Quartz", "Raven", "Ridge", "River", "Sable", "Sierra", "Silver",
    "Solstice", "Spruce", "Summit", "Tidal", "Timber", "Vantage", "Vertex", "Willow", "Zenith",
)

COMPANY_SUFFIXES: tuple[str, ...] = (
    "Labs", "Systems", "Analytics", "Health", "Logistics", "Foods", "Robotics", "Studio",
    "Partners", "Media", "Energy", "Finance", "Works", "Retail", "Cloud", "Bio", "Mobility",
    "Security", "Learning", "Travel",
)

INDUSTRIES: tuple[str, ...] = (
    "Software", "E-commerce", "Healthcare", "Financial Services", "Education", "Logistics",
    "Media", "Manufacturing", "Travel", "Retail", "Real Estate", "Non-profit", "Gaming",
    "Telecommunications", "Energy",
)

PLANS: tuple[str, ...] = ("Starter", "Growth", "Pro", "Premium", "Enterprise")

EMAIL_DOMAINS: tuple[str, ...] = (
    "example.com", "example.org", "example.net", "mail.example", "inbox.example", "post.example",
)

JOB_TITLES: tuple[str, ...] = (
    "Support Specialist", "Senior Support Engineer", "Customer Success Manager", "Support Lead",
    "Head of Support", "Technical Account Manager", "Billing Specialist", "Onboarding Specialist",
    "Product Specialist", "Support Operations Manager",
)

TEAM_NAMES: tuple[str, ...] = (
    "Tier 1 Support", "Tier 2 Support", "Billing", "Onboarding", "Enterprise Success",
    "Technical Escalations", "Sales", "Partnerships", "EMEA Support", "APAC Support",
    "Americas Support", "Trust & Safety", "Integrations", "Mobile", "Payments", "Shipping",
    "Returns", "VIP", "Developer Relations", "Account Management",
)

TAG_WORDS: tuple[str, ...] = (
    "billing", "bug", "feature-request", "refund", "onboarding", "login", "mobile", "api",
    "integration", "urgent", "vip", "churn-risk", "upgrade", "downgrade", "invoice", "shipping",
    "returns", "security", "performance", "feedback", "sso", "export", "import", "webhooks",
    "pricing", "trial", "cancellation", "data-request", "outage", "how-to",
)

SEGMENT_WORDS: tuple[str, ...] = (
    "Active users", "New signups", "Trial users", "Paying customers", "At risk", "Power users",
    "Dormant", "Enterprise", "Mobile users", "Web visitors", "Newsletter leads", "Event leads",
    "Beta testers", "Churned", "High value", "Self-serve",
)

COUNTRIES: tuple[tuple[str, str, str, str], ...] = (
    # country, region, city, country code; continent derived from the code.
    ("United States", "California", "San Francisco", "US"),
    ("United States", "New York", "New York", "US"),
    ("United States", "Texas", "Austin", "US"),
    ("Canada", "Ontario", "Toronto", "CA"),
    ("United Kingdom", "England", "London", "GB"),
    ("Ireland", "Leinster", "Dublin", "IE"),
    ("Germany", "Berlin", "Berlin", "DE"),
    ("France", "Ile-de-France", "Paris", "FR"),
    ("Spain", "Catalonia", "Barcelona", "ES"),
    ("Netherlands", "North Holland", "Amsterdam", "NL"),
    ("Sweden", "Stockholm", "Stockholm", "SE"),
    ("Brazil", "Sao Paulo", "Sao Paulo", "BR"),
    ("Mexico", "Mexico City", "Mexico City", "MX"),
    ("India", "Karnataka", "Bengaluru", "IN"),
    ("Japan", "Tokyo", "Tokyo", "JP"),
    ("Australia", "New South Wales", "Sydney", "AU"),
    ("Nigeria", "Lagos", "Lagos", "NG"),
    ("South Africa", "Western Cape", "Cape Town", "ZA"),
)

CONTINENTS: dict[str, str] = {
    "US": "NA", "CA": "NA", "MX": "NA", "GB": "EU", "IE": "EU", "DE": "EU", "FR": "EU",
    "ES": "EU", "NL": "EU", "SE": "EU", "BR": "SA", "IN": "AS", "JP": "AS", "AU": "OC",
    "NG": "AF", "ZA": "AF",
}

BROWSERS: tuple[tuple[str, str], ...] = (
    ("chrome", "131.0.0.0"), ("safari", "18.1"), ("firefox", "133.0"), ("edge", "131.0.0.0"),
)
OPERATING_SYSTEMS: tuple[str, ...] = ("OS X 14.6", "Windows 11", "iOS 18.1", "Android 15", "Linux")
LANGUAGES: tuple[str, ...] = ("en", "en", "en", "de", "fr", "es", "pt", "ja", "nl", "sv")

CONTACT_MESSAGES: tuple[str, ...] = (
    "Hi, I can't log in to my account since this morning.",
    "How do I export my data to CSV?",
    "I was charged twice this month, can you check?",
    "Is there a way to add more seats to our plan?",
    "The mobile app crashes when I open settings.",
    "Can you help me set up the Slack integration?",
    "Where can I download last month's invoice?",
    "Our webhook stopped receiving events yesterday.",
    "I'd like to cancel my subscription.",
    "The dashboard is loading really slowly for our team.",
    "Do you support single sign-on with Okta?",
    "My order hasn't arrived yet, any update?",
    "Thanks, that worked!",
    "Still seeing the same error, unfortunately.",
    "Could you explain how the pricing tiers differ?",
    "I need to change the email address on our account.",
    "Following up on my previous message.",
    "Perfect, thank you for the quick help.",
    "I attached a screenshot of the error.",
    "Is there an API endpoint for this?",
)

ADMIN_MESSAGES: tuple[str, ...] = (
    "Thanks for reaching out! Let me look into this for you.",
    "Could you share a screenshot of what you're seeing?",
    "I've refunded the duplicate charge; it should appear in 3-5 business days.",
    "You can export your data from Settings > Data > Export.",
    "I've escalated this to our engineering team and will update you soon.",
    "That should be fixed now. Could you try again?",
    "Here's a link to our guide on setting up the integration.",
    "I've added the seats to your plan.",
    "Happy to help! Is there anything else I can do for you?",
    "I'm sorry for the trouble. We're tracking this as a known issue.",
    "I've updated the email address on your account.",
    "Your invoice is available under Billing > Invoices.",
    "Could you confirm which browser and version you're using?",
    "Our team deployed a fix this morning.",
    "I'll close this for now; just reply if anything else comes up.",
)

NOTE_MESSAGES: tuple[str, ...] = (
    "Customer is on the legacy plan, check before offering a discount.",
    "Looks related to yesterday's incident.",
    "Escalating to tier 2.",
    "Refund approved by billing.",
    "Asked engineering for an ETA.",
    "VIP account, prioritise.",
)

BOT_MESSAGES: tuple[str, ...] = (
    "Hi there! I'm here to help. What can I do for you today?",
    "Thanks! A member of our team will get back to you shortly.",
    "Here are some articles that might help while you wait.",
    "Did that answer your question?",
)

EMAIL_SUBJECTS: tuple[str, ...] = (
    "Problem with my account",
    "Billing question",
    "Feature request",
    "Order status",
    "Integration help",
    "Re: your recent ticket",
)

RATING_REMARKS: tuple[str, ...] = (
    "",
    "",
    "Very helpful, thanks!",
    "Quick and friendly.",
    "Took a while but solved.",
    "Issue not resolved.",
    "Great support as always.",
)

TICKET_TITLES: tuple[str, ...] = (
    "Export fails for large accounts",
    "Refund request",
    "Cannot connect SSO",
    "Invoice address change",
    "Webhook retries not working",
    "Data deletion request",
    "Feature: bulk edit",
    "Shipping label missing",
)
# fmt: on
