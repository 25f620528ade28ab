// Chooses the member portal a group-portal login is redirected to: round-robin per login, skipping members that
// are down, as an EqualLogic group's network load balancer spreads connections over member ports.

export interface BalancedMember { readonly up: boolean }

export class PortalBalancer<M extends BalancedMember> {
  private next = 0;
  constructor(private readonly members: readonly M[]) {}

  /** The member for the next login, or undefined when every member is down. */
  pick(): M | undefined {
    const n = this.members.length;
    for (let i = 0; i < n; i++) {
      const member = this.members[(this.next + i) % n];
      if (member.up) {
        this.next = (this.next + i + 1) % n;
        return member;
      }
    }
    return undefined;
  }
}
