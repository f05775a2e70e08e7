// A switch-dispatch bytecode interpreter running a loop-heavy program (sum of a series).
enum { PUSH, ADD, SUB, MUL, MOD, DUP, SWAP, JNZ, LOAD, STORE, HALT };
static const int program[] = {
    PUSH, 0, STORE, 0,            // acc = 0
    PUSH, 3000000, STORE, 1,      // i = 3000000
    LOAD, 0, LOAD, 1, PUSH, 7, MOD, ADD, LOAD, 1, PUSH, 3, MUL, PUSH, 11, MOD, SUB, STORE, 0,   // acc += i%7 - (i*3)%11
    LOAD, 1, PUSH, 1, SUB, DUP, STORE, 1, JNZ, 8,
    LOAD, 0, HALT,
};
int run(void) {
    int stack[64], sp = 0, vars[4] = {0}, pc = 0;
    for (;;) {
        switch (program[pc++]) {
        case PUSH: stack[sp++] = program[pc++]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: { int t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
        case JNZ: { int target = program[pc++]; if (stack[--sp]) pc = target; break; }
        case LOAD: stack[sp++] = vars[program[pc++]]; break;
        case STORE: vars[program[pc++]] = stack[--sp]; break;
        case HALT: return stack[sp - 1];
        }
    }
}
