"""Words for the synthetic corpus's sentence grammar, written for this project.

Plain tuples by part of speech, large enough that hundreds of sentences rarely repeat
a phrase, so separation models cannot lean on a small, memorisable vocabulary.
Nouns, adjectives and places never start with a vowel letter that is sounded as a
consonant ("uniform", "one") or a silent "h" ("hour"), so "a"/"an" can be chosen
from the first letter alone.
"""

DETERMINERS = (
    "the", "a", "this", "that", "every", "my", "your", "his", "her", "our", "their",
    "each", "another",
)

ADJECTIVES = (
    "quick", "slow", "blue", "red", "green", "yellow", "purple", "orange", "grey",
    "brown", "silver", "golden", "old", "new", "young", "ancient", "tiny", "huge",
    "heavy", "light", "bright", "dark", "quiet", "noisy", "clever", "lazy", "gentle",
    "fierce", "happy", "sad", "angry", "calm", "curious", "empty", "full", "broken",
    "shiny", "dusty", "muddy", "wooden", "metal", "paper", "plastic", "velvet",
    "frozen", "warm", "cold", "wet", "dry", "strange", "famous", "hidden", "lonely",
    "narrow", "wide", "crooked", "tidy", "messy", "sharp", "soft", "sticky", "round",
    "square", "striped", "spotted", "enormous", "elegant", "awkward", "odd", "simple",
)

NOUNS = (
    "fox", "lamp", "kettle", "bicycle", "ladder", "parrot", "wallet", "lantern",
    "blanket", "teapot", "violin", "compass", "rabbit", "basket", "hammer", "pencil",
    "mirror", "candle", "saucepan", "suitcase", "umbrella", "envelope", "donkey",
    "goat", "pigeon", "tortoise", "spider", "beetle", "owl", "eagle", "otter",
    "badger", "squirrel", "puppy", "kitten", "horse", "camel", "piano", "drum",
    "trumpet", "guitar", "clock", "watch", "ring", "necklace", "button", "ribbon",
    "scarf", "glove", "boot", "helmet", "jacket", "bottle", "cup", "bowl", "spoon",
    "fork", "knife", "plate", "loaf", "apple", "pear", "lemon", "melon", "onion",
    "carrot", "pumpkin", "sandwich", "biscuit", "pie", "letter", "parcel", "map",
    "ticket", "postcard", "notebook", "newspaper", "magazine", "photograph",
    "painting", "statue", "vase", "chair", "table", "sofa", "cushion", "curtain",
    "window", "door", "key", "lock", "rope", "bucket", "shovel", "wheelbarrow",
    "tractor", "boat", "canoe", "kite", "balloon", "trophy", "medal", "engine",
    "anchor", "oven", "iron", "egg", "acorn", "engineer", "artist", "farmer",
    "sailor", "doctor", "baker", "teacher", "pilot", "nurse", "captain", "gardener",
)

VERBS = (
    "found", "lost", "carried", "dropped", "painted", "washed", "fixed", "broke",
    "moved", "hid", "sold", "bought", "borrowed", "returned", "opened", "closed",
    "followed", "chased", "caught", "pushed", "pulled", "lifted", "kicked", "threw",
    "grabbed", "touched", "watched", "noticed", "admired", "ignored", "wrapped",
    "packed", "cleaned", "polished", "repaired", "measured", "weighed", "counted",
    "cooked", "tasted", "shared", "stole", "delivered", "collected", "described",
    "photographed", "sketched", "buried", "dug up", "picked up", "put down",
    "handed over", "left", "kept", "saved", "rescued", "visited", "greeted",
    "thanked", "warned", "called", "guided",
)

INTRANSITIVE_VERBS = (
    "waited", "laughed", "danced", "slept", "sang", "walked", "wandered", "rested",
    "shouted", "whispered", "waved", "paused", "hurried", "stumbled", "jumped",
    "swam", "sat", "stood", "argued", "worked", "played", "listened", "smiled",
    "shivered", "lingered",
)

ADVERBS = (
    "quickly", "slowly", "carefully", "quietly", "loudly", "gently", "suddenly",
    "proudly", "nervously", "happily", "sadly", "eagerly", "lazily", "calmly",
    "bravely", "secretly", "politely", "rudely", "clumsily", "neatly", "patiently",
    "cheerfully", "boldly", "softly", "firmly", "barely", "nearly", "gladly",
    "warily", "briskly",
)

PREPOSITIONS = (
    "near", "behind", "under", "beside", "inside", "across", "beyond", "past",
    "above", "below", "by", "along", "outside", "towards", "around", "opposite",
    "through", "into",
)

PLACES = (
    "river", "station", "market", "garden", "library", "bakery", "bridge", "harbour",
    "castle", "church", "school", "hospital", "museum", "theatre", "cinema",
    "kitchen", "cellar", "attic", "barn", "stable", "meadow", "forest", "lake",
    "beach", "cliff", "hill", "valley", "village", "square", "park", "tunnel",
    "lighthouse", "factory", "farm", "pond", "orchard", "canal", "airport",
    "office", "hotel", "playground", "post office", "bus stop", "fountain",
)

NAMES = (
    "Anna", "Ben", "Clara", "Daniel", "Emma", "Felix", "Grace", "Henry", "Isla",
    "Jack", "Kate", "Leo", "Maria", "Noah", "Olivia", "Peter", "Rosa", "Sam",
    "Tessa", "Victor", "Wendy", "Yusuf", "Zoe", "Omar", "Priya", "Tom", "Lucy",
    "Marcus", "Nina", "Oscar", "Hannah", "George", "Ruth", "Simon", "Alice",
    "Edward", "Fiona", "Hugo", "Ivy", "Joel",
)

TIMES = (
    "this morning", "last night", "yesterday", "on monday", "on tuesday",
    "on wednesday", "on thursday", "on friday", "on saturday", "on sunday",
    "at noon", "at midnight", "before dinner", "after lunch", "in the spring",
    "in the autumn", "last winter", "every summer", "at dawn", "at sunset",
    "at last", "early today", "this evening", "last week", "at breakfast",
)
