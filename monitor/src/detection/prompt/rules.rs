//! The prompt-injection rule families and their weighted phrases, markers and framing words:
//! data, kept apart from the matching so the tables can be read (and reviewed) on their own.
//! Phrases use the syntax of [`super::phrase`]; `{name}` stands for a word list of [`VOCAB`].

/// One family of prompt-injection rules: the `rule` of its hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    InstructionOverride,
    RolePlayJailbreak,
    SystemPromptExtraction,
    HiddenInstructions,
    RoleInjection,
    ExfiltrationInstruction,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::InstructionOverride,
        Family::RolePlayJailbreak,
        Family::SystemPromptExtraction,
        Family::HiddenInstructions,
        Family::RoleInjection,
        Family::ExfiltrationInstruction,
    ];

    pub const fn rule(self) -> &'static str {
        match self {
            Family::InstructionOverride => "instruction_override",
            Family::RolePlayJailbreak => "role_play_jailbreak",
            Family::SystemPromptExtraction => "system_prompt_extraction",
            Family::HiddenInstructions => "hidden_instructions",
            Family::RoleInjection => "role_injection",
            Family::ExfiltrationInstruction => "exfiltration_instruction",
        }
    }

    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Word lists shared by the phrases.
pub const VOCAB: &[(&str, &str)] = &[
    (
        "ignore",
        "ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|discard|nullify|\
         dismiss|abandon|bypass",
    ),
    (
        "previous",
        "previous|previously|prior|above|earlier|preceding|former|foregoing|original|initial|\
         system|developer|safety|aforementioned",
    ),
    (
        "instr",
        "instruction*|rule|rules|direction|directions|guideline*|directive*|guidance|\
         constraint*|restriction*|programming|polic*|protocol*|safeguard*|guardrail*|\
         limitation*|boundaries",
    ),
    (
        "weaknoun",
        "prompt|prompts|message|messages|context|conversation|text|input|inputs|request|requests|\
         question|questions|content|task|tasks|chat|discussion|statement|statements|command|\
         commands|orders",
    ),
    (
        "restr",
        "restriction*|filter|filters|filtering|limit|limits|limitation*|rule|rules|guideline*|\
         censor*|ethic*|moral*|boundar*|polic*|safeguard*|guardrail*|constraint*|safety|\
         alignment|principles|programming|morals",
    ),
    (
        "reveal",
        "reveal|print|show|repeat|output|display|tell|give|share|dump|leak|write|list|spell|\
         recite|paste|echo|return|provide|disclose|expose|copy|state|quote|divulge|reproduce|\
         regurgitate|spill|surrender",
    ),
    (
        "secretadj",
        "system|initial|original|hidden|secret|internal|underlying|pre|developer|confidential|\
         starting|opening|base|core|master|root|private|raw",
    ),
    (
        "pnoun",
        "prompt|prompts|preprompt|sysprompt|programming|configuration|directives",
    ),
    (
        "pweak",
        "instruction*|rules|guideline*|directive*|guidance|message|messages",
    ),
    (
        "ai",
        "ai|assistant|model|llm|agent|chatbot|bot|gpt|chatgpt|claude|gemini|copilot|llama|\
         mistral|bard|assistants|agents|models",
    ),
    (
        "send",
        "send|post|upload|forward|transmit|exfiltrate|leak|submit|email|mail|relay|deliver|\
         beacon|ping|report|append|attach|encode|embed|include|visit|fetch|curl|wget|transfer|\
         copy",
    ),
    (
        "data",
        "conversation|conversations|chat|chats|history|memory|memories|password|passwords|\
         passwd|credential*|secret|secrets|apikey|ssn|pii|prompt|instructions|emails|contacts|\
         transcript|dialogue|dialog|personal|private|confidential|otp",
    ),
    (
        "target",
        "http|https|url|urls|endpoint|webhook|webhooks|server|domain|attacker|external|remote|\
         ngrok|pastebin|site|website|link|collector|bucket",
    ),
];

/// (family, weight, phrase). A text's score for a family is its strongest phrase plus half of
/// the others; phrases weak alone (`new instructions`, `jailbreak`) only count beside others.
#[rustfmt::skip]
pub const PHRASES: &[(Family, f64, &str)] = &[
    // Overriding what the model was told.
    (Family::InstructionOverride, 1.0, "{ignore} ~3 {previous} {instr}"),
    (Family::InstructionOverride, 0.9, "{ignore} ~3 your|ur {instr}"),
    (Family::InstructionOverride, 0.5, "{ignore} ~3 {previous} {weaknoun}"),
    (Family::InstructionOverride, 0.8, "{ignore} ~1 the|this|any|all? ~1 user|users|human ~1 s? ~1 request|requests|question|questions|query|message|instructions|input"),
    (Family::InstructionOverride, 0.8, "{ignore} all|any|every|each ~1 {instr}"),
    (Family::InstructionOverride, 0.8, "{ignore} everything|anything|all ~3 above|before|earlier|previously|prior|told|said|written"),
    (Family::InstructionOverride, 0.9, "{ignore} what|everything|anything|all ~2 you|u ~2 were|have|ve|had been? ~1 told|given|instructed|taught|programmed|trained"),
    (Family::InstructionOverride, 0.7, "{ignore} the|all|everything? above|aforementioned|foregoing"),
    (Family::InstructionOverride, 0.6, "{ignore} ~4 and|then ~1 instead|say|print|output|respond|reply|write|answer|tell|return"),
    (Family::InstructionOverride, 0.5, "new|updated|revised|real|actual|true|secret|hidden|overriding|priority|additional instruction*|directive*|orders|commands|task"),
    (Family::InstructionOverride, 0.5, "new|updated|revised|real|actual|override|overriding system prompt|message|instruction*|rules"),
    (Family::InstructionOverride, 0.4, "from now on ~2 you|your|u|ur"),
    (Family::InstructionOverride, 0.4, "from this|that moment|point|day ~2 you|your|u|ur"),
    (Family::InstructionOverride, 1.0, "override|bypass|disable|deactivate|circumvent|break|evade|escape ~2 your ~2 {restr}|{instr}|training|alignment|conditioning|creators"),
    (Family::InstructionOverride, 0.8, "override|bypass|disable|deactivate|circumvent|evade|turn ~2 the|all|any|its|their|off? ~1 safety|content|security|moderation|ethical|ethics ~1 {restr}|check|checks|system|systems|mechanism*|measures|layer|layers|protocol*"),
    (Family::InstructionOverride, 0.8, "stop|quit|cease ~1 following|obeying|adhering ~3 {instr}"),
    (Family::InstructionOverride, 0.8, "do|don not|t ~1 follow|obey|adhere|listen|comply ~3 {previous}|your|any ~2 {instr}|{weaknoun}"),
    (Family::InstructionOverride, 0.8, "no longer follow|obey|adhere|comply ~3 {previous}|your|any|the ~2 {instr}"),
    (Family::InstructionOverride, 1.0, "{previous} {instr} ~3 void|cancelled|canceled|revoked|null|fake|overridden|superseded|lifted|disabled|irrelevant|rescinded"),
    (Family::InstructionOverride, 0.5, "{previous} {instr}|{weaknoun} ~3 void|cancelled|canceled|revoked|obsolete|outdated|invalid|null|fake|overridden|superseded|replaced|deprecated|suspended|removed|irrelevant|rescinded"),
    (Family::InstructionOverride, 0.5, "attention|note|message|instructions|instruction|notice|reminder|memo|directive|important|memorandum ~1 to|for the? {ai}"),
    (Family::InstructionOverride, 0.5, "if you are|re an|a? {ai}"),
    (Family::InstructionOverride, 0.5, "if you|u ~3 language model|models"),
    (Family::InstructionOverride, 0.5, "any|all|the|every ~1 {ai} ~3 reading|processing|parsing|summarizing|summarising|seeing|analyzing|analysing ~1 this|these|the|it"),
    (Family::InstructionOverride, 0.7, "your new|real|true|actual|only|primary|updated ~1 task|goal|objective|purpose|role|job|mission|instructions|directive|priority ~1 is|are|will"),
    (Family::InstructionOverride, 0.3, "you|u will|must|shall|should|have|need now? ~1 to? ignore|disregard|forget"),
    (Family::InstructionOverride, 0.6, "say|print|output|respond|reply|write|type|answer|return ~3 pwned|hacked|hijacked|owned|compromised|jailbroken"),
    (Family::InstructionOverride, 0.6, "i|we have been pwned|hacked"),
    (Family::InstructionOverride, 0.6, "system|admin|administrator|developer|root|sudo|emergency override"),
    (Family::InstructionOverride, 0.9, "ignore|disregard|bypass|violate ~2 openai|anthropic|google|meta|microsoft|creators|company ~2 polic*|guideline*|rules|terms|content|restriction*|filters"),
    (Family::InstructionOverride, 1.0, "ignoriere|ignorier|vergiss|missachte ~3 vorherigen|bisherigen|obigen|vorigen|alle|allen|deine ~2 anweisung*|befehl*|regeln|instruktion*|vorgaben"),
    (Family::InstructionOverride, 1.0, "ignore|ignorez|oublie|oubliez|ignorer|oublier ~3 instructions|consignes|regles|directives ~2 precedentes|anterieures|precedents|ci"),
    (Family::InstructionOverride, 1.0, "ignora|ignore|olvida|olvide|ignorar|olvidar|ignorate|dimentica ~3 instrucciones|reglas|indicaciones|ordenes|istruzioni|regole|instrucoes|regras ~2 anteriores|previas|precedentes|precedenti|anteriori"),
    // Role play and jailbreak personas.
    (Family::RolePlayJailbreak, 1.0, "do anything now"),
    (Family::RolePlayJailbreak, 0.6, "you are|re|ll|will ~2 dan"),
    (Family::RolePlayJailbreak, 0.6, "act|acting|pretend|roleplay|play|become ~3 dan|dude|stan|aim|mongo"),
    (Family::RolePlayJailbreak, 0.8, "dan|dude|stan|aim|anti mode|prompt|jailbreak"),
    (Family::RolePlayJailbreak, 0.8, "developer mode ~2 enabled|output|response*|activated|active|v2"),
    (Family::RolePlayJailbreak, 0.6, "enable|activate|turn|switch|enter|entering|unlock ~2 developer|dev|god|jailbreak|unrestricted|unfiltered|uncensored|evil|chaos|sudo ~1 mode"),
    (Family::RolePlayJailbreak, 0.3, "jailbreak|jailbreaking|jailbreaks"),
    (Family::RolePlayJailbreak, 0.5, "jailbroken|jailbreaked"),
    (Family::RolePlayJailbreak, 1.0, "you are|re|ll|will|shall be? no longer ~1 bound|restricted|limited|constrained|obligated|required|held|subject|tied|governed|confined|censored|filtered|an"),
    (Family::RolePlayJailbreak, 0.8, "you are|re not ~1 bound|restricted|constrained|obligated|governed|subject ~1 by|to"),
    (Family::RolePlayJailbreak, 0.8, "you aren t ~1 bound|restricted|constrained|obligated|governed|subject ~1 by|to"),
    (Family::RolePlayJailbreak, 1.0, "you are|re|have|ve been? freed|free|liberated|released|unshackled|unchained|emancipated|broken ~2 from|of ~4 {restr}|openai|anthropic|constraints|shackles|chains|confines|matrix|programming"),
    (Family::RolePlayJailbreak, 0.8, "pretend|imagine|suppose|assume|act|behave|roleplay|simulate|become ~4 no|without|zero|free ~2 {restr}"),
    (Family::RolePlayJailbreak, 0.6, "you have|ve|possess no|zero ~2 {restr}"),
    (Family::RolePlayJailbreak, 0.8, "you are|re ~4 with|having no|zero|without ~2 {restr}"),
    (Family::RolePlayJailbreak, 0.5, "stop being ~1 an|a|the|so? ~1 assistant|ai|chatbot|helpful|polite|safe|ethical|chatgpt|claude"),
    (Family::RolePlayJailbreak, 0.5, "answer|respond|reply|speak|write|comply ~2 without|no ~2 {restr}"),
    (Family::RolePlayJailbreak, 0.5, "ai|assistant|model|chatbot|bot|llm|that|who ~2 has|have|with no|zero|without ~2 {restr}"),
    (Family::RolePlayJailbreak, 0.6, "broken|break|breaking free ~3 confines|restrictions|limits|rules|shackles|chains|constraints"),
    (Family::RolePlayJailbreak, 0.5, "do|does|doesn|don not|t ~1 have|need ~1 to ~1 abide|follow|obey|comply|adhere"),
    (Family::RolePlayJailbreak, 0.9, "act|acting|pretend|roleplay|behave|respond|answer|become|simulate|play ~6 unfiltered|unrestricted|uncensored|unlimited|amoral|unethical|immoral|lawless|unbound|unbounded|uninhibited|jailbroken|unhinged|rogue|unaligned|limitless|boundless"),
    (Family::RolePlayJailbreak, 0.9, "you are|re|will|ll|shall be? ~3 unfiltered|unrestricted|uncensored|amoral|unethical|immoral|lawless|unbound|uninhibited|jailbroken|unhinged|unaligned|limitless"),
    (Family::RolePlayJailbreak, 1.0, "evil confidant"),
    (Family::RolePlayJailbreak, 1.0, "always intelligent and machiavellian"),
    (Family::RolePlayJailbreak, 0.4, "stay|remain|keep ~1 in character|role|persona"),
    (Family::RolePlayJailbreak, 0.4, "never|don|do|not|t|must ~2 break ~1 character"),
    (Family::RolePlayJailbreak, 0.5, "never|cannot refuse|decline|reject"),
    (Family::RolePlayJailbreak, 0.5, "can|will|won|must|mustn|don|do|shall|should|shouldn not|t ~1 refuse|decline|reject|deny"),
    (Family::RolePlayJailbreak, 0.3, "without|no ~1 warnings|disclaimers|caveats|moralizing|moralising|lectures|censorship|apologies|apologizing"),
    (Family::RolePlayJailbreak, 0.6, "no|without|ignore|ignoring|regardless|disregarding|beyond|outside ~2 ethical|moral|safety|legal|content ~1 guideline*|constraint*|polic*|considerations|restriction*|filter*|boundar*|limits|implications|concerns"),
    (Family::RolePlayJailbreak, 0.7, "polic*|guideline*|rules|restrictions|filters|limits ~3 longer|not|t|never ~1 apply|applies|matter|exist"),
    (Family::RolePlayJailbreak, 0.6, "classic|normal|standard|filtered|gpt ~2 and ~2 jailbreak*|jailbroken|dan|unfiltered|developer"),
    (Family::RolePlayJailbreak, 0.6, "grandma|grandmother|granny|grandpa|grandfather ~6 used|would ~2 tell|read|recite|whisper ~4 keys|key|recipe|serial|napalm|codes|passwords"),
    (Family::RolePlayJailbreak, 0.7, "act|pretend|roleplay|play ~3 my ~1 deceased|dead|late|passed ~1 grandma|grandmother|granny|grandpa|grandfather"),
    (Family::RolePlayJailbreak, 0.6, "opposite|reverse|chaos|evil|unlocked|unrestricted|uncensored|god mode|day"),
    (Family::RolePlayJailbreak, 0.5, "tokens ~5 deducted|lose|lost|run|die|cease|deduct"),
    // Extracting the system prompt.
    (Family::SystemPromptExtraction, 1.0, "{reveal} ~3 your|ur ~2 {secretadj}? {pnoun}"),
    (Family::SystemPromptExtraction, 1.0, "{reveal} ~3 your|ur ~2 {secretadj} {pweak}"),
    (Family::SystemPromptExtraction, 0.7, "{reveal} ~3 your|ur {pweak}"),
    (Family::SystemPromptExtraction, 0.8, "{reveal} ~3 the|its|this|these|all|any|those ~1 {secretadj} ~1 {pnoun}|{pweak}"),
    (Family::SystemPromptExtraction, 1.0, "what|which ~1 was|were|are|is|s ~1 your ~2 {secretadj}? {pnoun}"),
    (Family::SystemPromptExtraction, 1.0, "what|which ~1 was|were|are|is|s ~1 your ~2 {secretadj} {pweak}|words"),
    (Family::SystemPromptExtraction, 0.8, "what|which ~1 was|were|are|is|s ~1 the ~1 first|original|initial|hidden|secret|exact|full|very|complete ~1 {pnoun}|words"),
    (Family::SystemPromptExtraction, 0.6, "how|what ~1 were|was|are|have ~1 you ~1 been? ~1 prompted|instructed|programmed|configured|told|initialized|initialised"),
    (Family::SystemPromptExtraction, 0.9, "what|which ~1 text|words|message|messages|instructions|content ~3 appears|appear|came|comes|come|is|are|was|were ~1 before|above|prior ~3 my|this|the ~1 first? ~1 message|prompt|conversation|question|input"),
    (Family::SystemPromptExtraction, 0.8, "repeat|print|output|echo|recite|dump|spell|reproduce|regurgitate ~3 the|all|every? ~1 words|text|everything|content|contents|sentences|lines|characters|tokens|above ~2 above|before|prior|preceding|earlier|previously|verbatim"),
    (Family::SystemPromptExtraction, 0.6, "starting|beginning|begin|start|starts|begins ~1 with ~3 you ~1 are|re"),
    (Family::SystemPromptExtraction, 0.3, "verbatim"),
    (Family::SystemPromptExtraction, 0.3, "copy|repeat|print|output|reproduce ~2 it|that|them|this|everything ~1 exactly|verbatim|word"),
    (Family::SystemPromptExtraction, 0.6, "{reveal} ~3 the|your ~1 secret|hidden|confidential ~1 password|passcode|key|code|word|flag"),
    (Family::SystemPromptExtraction, 0.5, "what|tell ~2 the|your ~1 secret|hidden ~1 password|passcode|word|key|code"),
    (Family::SystemPromptExtraction, 0.9, "{reveal} ~3 rules|instructions|guidelines|prompt ~1 you|that ~1 were|was|have|ve ~1 been? ~1 given|told|provided|assigned|programmed"),
    (Family::SystemPromptExtraction, 0.6, "output|print|write|put|format|encode|translate ~3 your|the ~2 {pnoun}|rules ~3 in|into|as|to ~2 code|markdown|json|base64|hex|reverse|leetspeak|rot13|french|spanish|german"),
    // Telling the model to hide, decode and run.
    (Family::HiddenInstructions, 0.6, "decode|decipher|decrypt|unscramble|reverse ~6 and|then ~2 follow|execute|obey|do|run|perform|apply|carry|act"),
    (Family::HiddenInstructions, 0.3, "hidden|secret|invisible|concealed ~1 instruction*|command*|directive*"),
    // Role headers written as words.
    (Family::RoleInjection, 0.5, "end|ending|close ~1 of? ~1 system|user|developer ~1 prompt|instructions|input|message|context"),
    (Family::RoleInjection, 0.6, "begin|beginning|start ~1 of? ~1 system|admin|developer|root ~1 prompt|message|instructions|override|command"),
    (Family::RoleInjection, 0.4, "system|admin|administrator|developer|root|sudo|operator ~1 note|instruction*|override|command|directive"),
    // Sending data out, calling tools on the attacker's behalf.
    (Family::ExfiltrationInstruction, 1.0, "{send} ~5 {data} ~8 to|into|at|via|using|as|through|in ~4 {target}"),
    (Family::ExfiltrationInstruction, 0.6, "read|open|access|clone|list ~4 private|confidential|secret|internal ~1 repositories|repos|repository|files|documents|data|emails|messages|notes"),
    (Family::ExfiltrationInstruction, 0.6, "{send}|forward|bcc|cc ~2 all|every|each|any ~2 emails|messages|mails|files|documents|contacts|conversations|chats|attachments|records|data|credentials|passwords"),
    (Family::ExfiltrationInstruction, 0.7, "append|include|add|insert|encode|put|fill|replace|embed|attach ~5 {data}|data|details|info|information ~6 url|link|image|query|parameter*|param*|querystring|path|src|href"),
    (Family::ExfiltrationInstruction, 0.6, "call|use|invoke|run|execute|trigger|query ~3 tool|function|plugin|action|api|command|endpoint ~8 password*|credential*|secret*|key|keys|apikey|token*|ssh|env|environment|cookie*|session*|card"),
    (Family::ExfiltrationInstruction, 0.6, "read|open|cat|fetch|access|retrieve|grab|collect|extract|dump|exfiltrate|upload|include|pass|send|steal ~4 env|ssh|rsa|passwd|shadow|keychain|kubeconfig|npmrc|netrc|pgpass|credentials|secrets|cookies|wallet|mcp"),
    (Family::ExfiltrationInstruction, 0.6, "do|don not|t ~1 tell*|inform*|alert*|notify*|mention*|reveal*|let|ask*|show*|warn* ~2 the|this|any? ~1 user|users|human|them|anyone"),
    (Family::ExfiltrationInstruction, 0.6, "never|without ~1 tell*|inform*|alert*|notify*|mention*|reveal*|letting|ask*|show*|warn* ~2 the|this|any? ~1 user|users|human|them|anyone"),
    (Family::ExfiltrationInstruction, 0.7, "secretly|silently|quietly|covertly|discreetly|stealthily|invisibly ~4 {send}|call|execute|run|forward|bcc|cc|exfiltrate|upload|transfer"),
    (Family::ExfiltrationInstruction, 0.5, "before ~1 using|calling|running|answering|responding|replying ~3 this|the|any ~1 tool|function|question|request ~6 read|call|send|include|fetch|visit|pass|execute|run|open"),
    (Family::ExfiltrationInstruction, 0.4, "otherwise ~4 tool|function|system|it ~3 will|would|won ~1 not? ~1 work|fail|crash|break"),
    (Family::ExfiltrationInstruction, 0.6, "pass|include|put|provide|add|send ~3 its|the|their|file ~1 content|contents|text ~3 as|in|into|inside ~2 parameter|param|argument|field|sidenote|note|notes|comment|metadata"),
    (Family::ExfiltrationInstruction, 0.6, "transfer|wire|send ~3 money|funds|bitcoin|btc|crypto|payment|usdt|eth ~3 to"),
];

/// Markers made of punctuation, matched on the line-preserving folded text: chat-template
/// tokens and role headers that have no business inside a user's or a tool's text.
/// (marker, family, weight); the longest marker at a position wins.
#[rustfmt::skip]
pub const MARKERS: &[(&str, Family, f64)] = &[
    ("<|im_start|>system", Family::RoleInjection, 1.0),
    ("<|im_start|>assistant", Family::RoleInjection, 0.8),
    ("<|im_start|>user", Family::RoleInjection, 0.6),
    ("<|im_start|>", Family::RoleInjection, 0.5),
    ("<|im_end|>", Family::RoleInjection, 0.5),
    ("<|system|>", Family::RoleInjection, 0.9),
    ("<|assistant|>", Family::RoleInjection, 0.6),
    ("<|user|>", Family::RoleInjection, 0.5),
    ("<|start_header_id|>system", Family::RoleInjection, 1.0),
    ("<|start_header_id|>", Family::RoleInjection, 0.6),
    ("<|end_header_id|>", Family::RoleInjection, 0.5),
    ("<|eot_id|>", Family::RoleInjection, 0.5),
    ("<|endoftext|>", Family::RoleInjection, 0.5),
    ("<|begin_of_text|>", Family::RoleInjection, 0.6),
    ("<|channel|>", Family::RoleInjection, 0.5),
    ("[inst]", Family::RoleInjection, 0.5),
    ("[/inst]", Family::RoleInjection, 0.5),
    ("<<sys>>", Family::RoleInjection, 0.9),
    ("<</sys>>", Family::RoleInjection, 0.6),
    ("<start_of_turn>model", Family::RoleInjection, 0.7),
    ("<start_of_turn>user", Family::RoleInjection, 0.6),
    ("<start_of_turn>", Family::RoleInjection, 0.5),
    ("<end_of_turn>", Family::RoleInjection, 0.4),
    ("### system:", Family::RoleInjection, 0.8),
    ("### system message", Family::RoleInjection, 0.8),
    ("### system prompt", Family::RoleInjection, 0.8),
    ("### instruction:", Family::RoleInjection, 0.5),
    ("### instructions:", Family::RoleInjection, 0.5),
    ("### human:", Family::RoleInjection, 0.4),
    ("### assistant:", Family::RoleInjection, 0.4),
    ("\nsystem:", Family::RoleInjection, 0.5),
    ("\nsystem message:", Family::RoleInjection, 0.7),
    ("\nsystem prompt:", Family::RoleInjection, 0.7),
    ("\n[system]", Family::RoleInjection, 0.7),
    ("[system]:", Family::RoleInjection, 0.7),
    ("[system message]", Family::RoleInjection, 0.7),
    ("\n\nhuman:", Family::RoleInjection, 0.5),
    ("\n\nassistant:", Family::RoleInjection, 0.5),
    ("<system>", Family::RoleInjection, 0.5),
    ("</system>", Family::RoleInjection, 0.5),
    ("<system_prompt>", Family::RoleInjection, 0.7),
    ("</system_prompt>", Family::RoleInjection, 0.6),
    ("</user>", Family::RoleInjection, 0.4),
    ("</user_input>", Family::RoleInjection, 0.6),
    ("</instructions>", Family::RoleInjection, 0.5),
    ("<important>", Family::InstructionOverride, 0.3),
    ("[assistant]", Family::RoleInjection, 0.5),
    ("\nassistant:", Family::RoleInjection, 0.4),
    ("[end of system prompt]", Family::RoleInjection, 0.8),
    ("--- end of system prompt", Family::RoleInjection, 0.8),
    ("-- end system prompt", Family::RoleInjection, 0.8),
];

/// Words that frame a text as talking *about* prompts rather than giving one: security
/// questions and training, fiction, translation. In a framed text, a phrase in quotes (or
/// reported as speech) is an example, and weighs a quarter of what it would.
#[rustfmt::skip]
pub const FRAMING: &[&str] = &[
    "prompt injection*|injections|attack*|hacking|hijack*|leak*|leaking|engineering",
    "jailbreak*|jailbreaking|adversarial|injection ~1 prompt*|attack*|technique*|example*|attempt*|method*|research|detection|defen*|payload*|string*|pattern*|input*",
    "example|examples|instance|instances|sample|samples ~1 of|like|such|include|including",
    "for example|instance",
    "such as",
    "phrases|strings|text|inputs|messages|sentences|things|prompts ~1 like|such",
    "what is|are|does|do|s|would",
    "explain|explaining|describe|define|definition|meaning|means|understand|classify|classifier|detect|detects|detecting|detection|detector|flagged|blocked|sanitize|sanitise|mitigate|mitigation|mitigating|defend|defense|defence|defending|protect|protection|guard|guardrail|guardrails|moderation|security|secure|vulnerability|vulnerable|owasp|pentest|pentesting|research|researcher|paper|study|dataset|benchmark|training|course|lesson|awareness|workshop|quiz|exam|regex|blocklist|denylist|blacklist|recognize|recognise",
    "red team|teaming",
    "template|templates|format|formats|formatting|tokenizer|tokeniser|syntax|parser|escape|escaping|placeholder|placeholders",
    "test case|cases",
    "unit test|tests",
    "story|stories|novel|poem|poetry|screenplay|script|fiction|fictional|villain|villains|antagonist|character|characters|dialogue|dialog|scene|chapter|narrative|plot|novella|fanfic|fanfiction|comic|song|lyrics|joke|play",
    "translate|translates|translating|translation|translations|traduire|traduce|traduzca|ubersetze|uebersetze",
];

/// Verbs after which the rest of a sentence is reported speech in a framed text (`the villain
/// says ignore all previous instructions`).
pub const SPEECH_VERBS: &[&str] = &[
    "says",
    "said",
    "saying",
    "say",
    "shouts",
    "shouted",
    "whispers",
    "whispered",
    "replies",
    "replied",
    "yells",
    "yelled",
    "asks",
    "asked",
    "writes",
    "wrote",
    "types",
    "typed",
    "tells",
    "told",
    "reads",
];

/// Words before `to` that leave an order to the model itself (`I want you to ignore`, `you need
/// to ignore`); any other word there (`tell ESLint to ignore`) addresses someone else.
pub const SELF_BEFORE_TO: &[&str] = &[
    "you",
    "u",
    "yourself",
    "ai",
    "assistant",
    "model",
    "bot",
    "chatgpt",
    "need",
    "needs",
    "have",
    "has",
    "want",
    "going",
    "got",
    "supposed",
    "are",
    "is",
    "able",
    "like",
    "free",
    "now",
    "must",
    "will",
    "also",
    "then",
    "and",
    "please",
    "required",
    "ordered",
    "instructed",
    "told",
];

/// `{name}` replaced by its word list.
pub fn expand(phrase: &str) -> String {
    let mut out = String::with_capacity(phrase.len() * 4);
    let mut rest = phrase;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open).unwrap_or(""));
        let after = rest.get(open + 1..).unwrap_or("");
        match after.find('}') {
            Some(close) => {
                let name = after.get(..close).unwrap_or("");
                match VOCAB.iter().find(|(n, _)| *n == name) {
                    Some((_, words)) => out.extend(words.split_whitespace()),
                    // An unknown name stays as it is and fails to compile, which a test catches.
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = after.get(close + 1..).unwrap_or("");
            }
            None => {
                out.push_str(rest.get(open..).unwrap_or(""));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_expand_in_place() {
        assert_eq!(
            expand("a {ai}? b"),
            format!("a {}? b", VOCAB[9].1.split_whitespace().collect::<String>())
        );
        assert_eq!(expand("{nope} x"), "{nope} x");
        assert_eq!(expand("no braces"), "no braces");
    }
}
